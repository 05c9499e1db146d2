"""Benchmark: `reconciler health` over many monitored models with a month of hourly production runs.

    .venv/bin/python bench/health_bench.py [--models 100,1000 --days 30 --repeat 3]

Per size: a SQLite registry whose `gitops.production` experiment holds one finished run per model
and hour for --days days (what reconciler.monitoring.log.log_window writes: its five tags, and the
metrics samples, prediction_mean, r2, mae, psi_max), and a models/ directory with one file per
model (`monitoring:` over the last 6 hours, r2 >= 0.3, psi_max <= 0.25). The first run is logged
through log_window and copied row for row with SQL (MLflow's client would take hours for 720,000
runs); populating is not timed. Then `python -m reconciler health --format json` as a whole
process, --repeat times: wall, its CPU (user+sys, from the OS), the registry calls it made (its
RECONCILER_TIMINGS report) and the runs it judged. The calls must not grow with the models.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

END = datetime(2026, 11, 30, tzinfo=timezone.utc)
HOUR_MS = 3_600_000
FILE = """\
name: {name}
owners: [olivia]
aliases:
  champion: 1
monitoring:
  alias: champion
  window: {{hours: 6}}
  min_samples: 100
  metrics:
    - {{metric: r2, at_least: 0.3}}
    - {{metric: psi_max, at_most: 0.25}}
"""


def name(i: int) -> str:
    return f"model-{i:04d}"


def template(uri: str) -> tuple[str, int]:
    """One run through the library; returns its id and experiment."""
    import numpy as np
    from mlflow import MlflowClient

    from reconciler.monitoring.log import log_window

    c = MlflowClient(tracking_uri=uri, registry_uri=uri)
    rng = np.random.default_rng(0)
    truth = rng.normal(150, 70, 100)
    run_id = log_window(
        name(0), 1, truth + rng.normal(0, 40, 100), ground_truth=truth, start=END - timedelta(hours=1), end=END,
        client=c, extra={"psi_max": 0.05},
    )  # fmt: skip
    return run_id, int(c.get_run(run_id).info.experiment_id)


def populate(db: Path, models: int, days: int) -> int:
    uri = f"sqlite:///{db}"
    tpl, experiment = template(uri)
    con = sqlite3.connect(db)
    run_row = con.execute("select * from runs where run_uuid = ?", (tpl,)).fetchone()
    for table in ("latest_metrics", "metrics", "tags", "runs"):  # its shape copied: the rows go
        con.execute(f"delete from {table} where run_uuid = ?", (tpl,))
    count = 0
    for i in range(models):
        runs, tags, metrics = [], [], []
        for h in range(days * 24):
            end = END - timedelta(hours=h)
            ms = int(end.timestamp() * 1000)
            rid = uuid.uuid4().hex
            stamp = end.strftime("%Y-%m-%dT%H:%M:%SZ")
            label = f"{name(i)} v1 {stamp}"
            runs.append((rid, label, *run_row[2:7], ms, ms, run_row[9], run_row[10], f"/bench/{rid}", experiment, None))
            start = (end - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
            for key, value in (
                ("gitops.monitoring.model", name(i)), ("gitops.monitoring.version", "1"),
                ("gitops.monitoring.window_start", start), ("gitops.monitoring.window_end", stamp),
                ("mlflow.runName", label),
            ):  # fmt: skip
                tags.append((key, value, rid))
            r2 = 0.5 + ((i * 7 + h) % 10) / 100
            for key, value in (("samples", 100.0), ("prediction_mean", 150.0), ("r2", r2), ("mae", 40.0),
                               ("psi_max", 0.05)):  # fmt: skip
                metrics.append((key, value, ms, rid, 0, 0))
        con.executemany("insert into runs values (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", runs)
        con.executemany("insert into tags values (?,?,?)", tags)
        con.executemany("insert into metrics values (?,?,?,?,?,?)", metrics)
        con.executemany(
            "insert into latest_metrics values (?,?,?,?,?,?)", [(k, v, t, s, n, r) for k, v, t, r, s, n in metrics]
        )
        count += len(runs)
    con.commit()
    con.execute("analyze")
    con.close()
    return count


def health(ws: Path) -> tuple[float, float, dict]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "RECONCILER_"))}
    env.update(MLFLOW_TRACKING_URI=f"sqlite:///{ws / 'mlflow.db'}", RECONCILER_TIMINGS="1")
    cmd = [sys.executable, "-m", "reconciler", "health", "--format", "json", "--now", END.strftime("%Y-%m-%dT%H:%M:%S")]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=ws, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"health exited {done.returncode}: {done.stderr[-2000:]}")
    report = json.loads(done.stdout)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), report


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="100,1000")
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rows = []
    for models in (int(m) for m in args.models.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            ws = Path(tmp)
            (ws / "models").mkdir()
            for i in range(models):
                (ws / "models" / f"{name(i)}.yaml").write_text(FILE.format(name=name(i)))
            started = time.perf_counter()
            runs = populate(ws / "mlflow.db", models, args.days)
            populated = time.perf_counter() - started
            walls, cpus = [], []
            for _ in range(args.repeat):
                wall, cpu, report = health(ws)
                walls.append(wall)
                cpus.append(cpu)
            judged = report["models"]
            assert len(judged) == models and all(m["state"] == "healthy" for m in judged), judged[:2]
            samples = sum(m["samples"] for m in judged)
            rows.append((models, runs, populated, walls, cpus, report["registry_calls"], samples))
    print(f"reconciler health --format json: {args.days} days of hourly runs per model, window 6 h, {args.repeat} runs")
    for models, runs, populated, walls, cpus, calls, samples in rows:
        print(
            f"  {models:>5} models, {runs:>7} runs in the registry (populated in {populated:.0f} s): "
            f"wall median {statistics.median(walls):5.2f} s (min {min(walls):.2f}, max {max(walls):.2f}), "
            f"cpu median {statistics.median(cpus):5.2f} s, registry calls {calls}, "
            f"{samples / 100:.0f} windows judged"
        )


if __name__ == "__main__":
    main()
