"""The serving side of production health: score a batch with the served version and log the
window's metrics through reconciler.monitoring.log (what `reconciler health` judges).

    python examples/production_monitoring.py diabetes-regressor 1 --windows 6 [--degrade 1.0]

Each window is one hour of simulated traffic from the diabetes data set: the served model scores
the batch, the labels arrive as ground truth, and the inputs are compared with the training data
(PSI and the two-sample KS test per feature). `--degrade` shifts the inputs, as a broken upstream
feature pipeline would. The registry is MLFLOW_TRACKING_URI, else ./mlflow.db.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import mlflow
import numpy as np
from sklearn.datasets import load_diabetes

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from reconciler.monitoring.log import log_window
from reconciler.registry.target import resolve_target


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model")
    p.add_argument("version", type=int)
    p.add_argument("--windows", type=int, default=6, help="hours of traffic to log, ending now")
    p.add_argument("--samples", type=int, default=100, help="requests per hour")
    p.add_argument("--degrade", type=float, default=0.0, help="shift the inputs by this many standard deviations")
    p.add_argument("--end", help="the last window's end (ISO 8601, UTC); default: now")
    args = p.parse_args(argv)
    target = resolve_target()
    mlflow.set_tracking_uri(target.tracking_uri)
    mlflow.set_registry_uri(target.registry_uri)
    served = mlflow.pyfunc.load_model(f"models:/{args.model}/{args.version}")  # the pinned version, as served
    data = load_diabetes(as_frame=True)
    x, y = data.data, data.target.to_numpy()
    end = datetime.fromisoformat(args.end).replace(tzinfo=timezone.utc) if args.end else datetime.now(timezone.utc)
    rng = np.random.default_rng(args.version)
    for i in range(args.windows, 0, -1):
        idx = rng.choice(len(x), args.samples, replace=False)
        batch = x.iloc[idx] + args.degrade * x.std()
        predictions = np.asarray(served.predict(batch)).ravel()
        window_end = end - timedelta(hours=i - 1)
        run_id = log_window(
            args.model, args.version, predictions, features=batch, reference=x, ground_truth=y[idx],
            start=window_end - timedelta(hours=1), end=window_end,
        )  # fmt: skip
        print(f"logged {args.model} v{args.version} window ending {window_end:%Y-%m-%dT%H:%M}Z: run {run_id}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
