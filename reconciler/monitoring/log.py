"""The library serving code calls to log production metrics: one MLflow run per model version
and window, tagged with model, version and window, in the experiment `gitops.production`.

    from reconciler.monitoring.log import log_window
    log_window("churn", 4, predictions, features=batch, reference=training_features,
               ground_truth=labels, task="classification", start=t0, end=t1)

Metrics: samples; prediction_mean/std/min/max (numeric predictions) or prediction_share.<class>;
with ground truth, accuracy (classification) or mae, rmse, r2 (regression); with features and the
training reference, psi.<feature>, ks.<feature>, ks_pvalue.<feature> per numeric feature and
psi_max, ks_max. `reconciler health` reads these runs (reconciler/monitoring/read.py).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import numpy as np

from reconciler.monitoring import drift

EXPERIMENT = "gitops.production"
MODEL_TAG, VERSION_TAG = "gitops.monitoring.model", "gitops.monitoring.version"
START_TAG, END_TAG = "gitops.monitoring.window_start", "gitops.monitoring.window_end"
_UNSAFE = re.compile(r"[^A-Za-z0-9_./ :-]")


def metrics(
    predictions: Any,
    *,
    features: Any = None,
    reference: Any = None,
    ground_truth: Any = None,
    task: str = "regression",
) -> dict[str, float]:
    """The window's metrics (pure): what log_window logs."""
    pred = np.asarray(predictions).ravel()
    out: dict[str, float] = {"samples": float(pred.size)}
    out.update(_prediction_stats(pred, task))
    if ground_truth is not None:
        out.update(_performance(pred, np.asarray(ground_truth).ravel(), task))
    if features is not None and reference is not None:
        out.update(_drift(features, reference))
    return {k: v for k, v in out.items() if math.isfinite(v)}


def _prediction_stats(pred: np.ndarray, task: str) -> dict[str, float]:
    if task == "classification" or not np.issubdtype(pred.dtype, np.number):
        values, counts = np.unique(pred.astype(str), return_counts=True)
        return {f"prediction_share.{_name(v)}": float(c / pred.size) for v, c in zip(values, counts, strict=True)}
    p = pred.astype(float)
    return {
        "prediction_mean": p.mean(),
        "prediction_std": p.std(),
        "prediction_min": p.min(),
        "prediction_max": p.max(),
    }


def _performance(pred: np.ndarray, truth: np.ndarray, task: str) -> dict[str, float]:
    if truth.size != pred.size:
        raise ValueError(f"{truth.size} ground-truth values for {pred.size} predictions; pass one per prediction")
    if task == "classification":
        return {"accuracy": float(np.mean(pred.astype(str) == truth.astype(str)))}
    p, t = pred.astype(float), truth.astype(float)
    err = p - t
    ss_tot = float(np.sum((t - t.mean()) ** 2))
    r2 = 1 - float(np.sum(err**2)) / ss_tot if ss_tot > 0 else float("nan")
    return {"mae": float(np.mean(np.abs(err))), "rmse": float(np.sqrt(np.mean(err**2))), "r2": r2}


def _drift(features: Any, reference: Any) -> dict[str, float]:
    import pandas as pd

    cur, ref = pd.DataFrame(features), pd.DataFrame(reference)
    out: dict[str, float] = {}
    for column in ref.columns:
        if column not in cur.columns or not pd.api.types.is_numeric_dtype(ref[column]):
            continue
        name = _name(str(column))
        out[f"psi.{name}"] = drift.psi(ref[column].to_numpy(), cur[column].to_numpy())
        stat, p = drift.ks(ref[column].to_numpy(), cur[column].to_numpy())
        out[f"ks.{name}"], out[f"ks_pvalue.{name}"] = stat, p
    psis = [v for k, v in out.items() if k.startswith("psi.") and math.isfinite(v)]
    kss = [v for k, v in out.items() if k.startswith("ks.") and math.isfinite(v)]
    if psis:
        out["psi_max"] = max(psis)
    if kss:
        out["ks_max"] = max(kss)
    return out


def _name(text: str) -> str:
    """A feature or class as part of an MLflow metric name."""
    return _UNSAFE.sub("_", text)[:200] or "_"


def log_window(
    model: str,
    version: int,
    predictions: Any,
    *,
    start: datetime,
    end: datetime,
    features: Any = None,
    reference: Any = None,
    ground_truth: Any = None,
    task: str = "regression",
    client: Any = None,
    extra: Mapping[str, float] | None = None,
) -> str:
    """Log one window's production metrics as a finished run; returns its id. The run's start time
    is the window's end, which `reconciler health` filters on."""
    from mlflow import MlflowClient

    c = client or MlflowClient()
    values = {**metrics(predictions, features=features, reference=reference, ground_truth=ground_truth, task=task)}
    values.update(extra or {})
    tags = {
        MODEL_TAG: model,
        VERSION_TAG: str(int(version)),
        START_TAG: _iso(start),
        END_TAG: _iso(end),
    }
    experiment = experiment_id(c)
    assert experiment is not None  # created when missing
    run = c.create_run(experiment, start_time=_ms(end), tags=tags, run_name=f"{model} v{version} {_iso(end)}")
    from mlflow.entities import Metric

    stamp = _ms(end)
    c.log_batch(run.info.run_id, metrics=[Metric(k, float(v), stamp, 0) for k, v in sorted(values.items())])
    c.set_terminated(run.info.run_id, "FINISHED", end_time=stamp)
    return str(run.info.run_id)


def experiment_id(client: Any, create: bool = True) -> str | None:
    found = client.get_experiment_by_name(EXPERIMENT)
    if found is None and create:
        from mlflow.exceptions import MlflowException

        try:
            return str(client.create_experiment(EXPERIMENT, tags={"gitops.purpose": "production metrics"}))
        except MlflowException as e:
            if e.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
            found = client.get_experiment_by_name(EXPERIMENT)
    return None if found is None else str(found.experiment_id)


def _ms(t: datetime) -> int:
    return int((t if t.tzinfo else t.replace(tzinfo=timezone.utc)).timestamp() * 1000)


def _iso(t: datetime) -> str:
    return (t if t.tzinfo else t.replace(tzinfo=timezone.utc)).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
