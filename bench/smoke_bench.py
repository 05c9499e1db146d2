"""Benchmark: what the smoke test adds per candidate to the pull-request check.

    .venv/bin/python bench/smoke_bench.py [--repeat 7]

A scikit-learn Ridge regressor on the diabetes data, logged with an input example and registered in
a SQLite registry (trained here, not timed). Then, in one process and interleaved so both see the same
machine, --repeat times each:

- "load alone": what any check of a version costs at least: download the version's files from the
  registry and load them as a pyfunc (reconciler/smoke/run.py `_download`, `_load`);
- "smoke test": `reconciler.smoke.run.smoke` as `github check` calls it per candidate: the same
  download and load, then one request (the logged example) through the scoring server's
  `invocations` and the signature check.

Printed per series: wall median (min, max) and this process's CPU median; the smoke test's
difference to the load alone is the request and the check. The first call of each series (imports,
MLflow's caches) is reported apart. `reconciler smoke M V` as a whole process is timed too (median
of --repeat): what a developer running it locally waits for.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MODEL = "bench-smoke"


def register(uri: str) -> int:
    import mlflow
    from mlflow.models import infer_signature
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Ridge

    data = load_diabetes(as_frame=True)
    x, y = data.data, data.target
    model = Ridge(alpha=1.0).fit(x, y)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(
            model, name="model", signature=infer_signature(x, model.predict(x)), input_example=x.head(5),
            registered_model_name=MODEL,
        )  # fmt: skip
    return int(info.registered_model_version)


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def describe(label: str, series: list[tuple[float, float]]) -> str:
    first, rest = series[0], series[1:]
    walls, cpus = [w * 1000 for w, _ in rest], [c * 1000 for _, c in rest]
    return (
        f"  {label:<12} wall {statistics.median(walls):7.1f} ms (min {min(walls):.1f}, max {max(walls):.1f})  "
        f"cpu {statistics.median(cpus):7.1f} ms   first call {first[0] * 1000:.0f} ms"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp)
        os.chdir(ws)  # MLflow's default artifact root is relative to the working directory
        uri = f"sqlite:///{ws / 'mlflow.db'}"
        version = register(uri)

        from reconciler.registry.target import Target
        from reconciler.smoke import Outcome
        from reconciler.smoke.run import Request, _download, _load, smoke

        target = Target(uri, uri, embedded=False)
        request = Request(MODEL, version)

        def load_alone() -> None:
            with tempfile.TemporaryDirectory() as into:
                model, problem = _load(_download(request, target, Path(into)))
                assert model is not None, problem

        def smoke_test() -> None:
            result = smoke(request, target)
            assert result.outcome is Outcome.PASSED, result.reasons
            requests.append(result.latency_ms or 0.0)

        requests: list[float] = []
        load: list[tuple[float, float]] = []
        full: list[tuple[float, float]] = []
        for _ in range(args.repeat + 1):
            load.append(timed(load_alone))
            full.append(timed(smoke_test))

        env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
        env["MLFLOW_TRACKING_URI"] = uri
        cli: list[float] = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "reconciler", "smoke", MODEL, str(version)],
                env=env, capture_output=True, text=True, cwd=ws,
            )  # fmt: skip
            cli.append(time.perf_counter() - started)
            if done.returncode != 0:
                raise SystemExit(done.stdout + done.stderr)
        os.chdir(ROOT)

    added = statistics.median(w for w, _ in full[1:]) - statistics.median(w for w, _ in load[1:])
    print(f"smoke test of one candidate (sklearn Ridge, 5-row logged example), {args.repeat} runs after a first")
    print(describe("load alone", load))
    print(describe("smoke test", full))
    print(f"  added by the request and the check: {added * 1000:.1f} ms (median difference)")
    print(f"  the request alone (SmokeResult.latency_ms): median {statistics.median(requests[1:]):.1f} ms")
    print(f"  `reconciler smoke {MODEL} {version}` as a whole process: median {statistics.median(cli):.2f} s")


if __name__ == "__main__":
    main()
