"""Benchmark: the CLI as the user runs it, as whole processes, on 1,000 models x 20 versions.

    .venv/bin/python bench/cli_bench.py [--models 1000 --versions 20 --repeat 3]

A PostgreSQL-backed `mlflow server`, started as deployed (one worker, basic auth), holds 1,000
registered models of 20 versions each (descriptions, tags, a stage, aliases), populated through
MLflow's SQL store. `reconciler import --all` writes their 1,000 files (20 versions each), so the
plan is a no-op by construction. Then, medians of --repeat runs of each command as a subprocess:

  reconciler validate --offline      the whole process (what pre-commit runs)
  reconciler plan                    the whole process, and its phases (RECONCILER_TIMINGS=1):
                                     load (files), read (registry), check, plan, render; the rest
                                     is interpreter start and imports; and the registry calls
Targets (issue 10): load <= 0.3 s; validate --offline <= 1.0 s; plan without the read <= 1.0 s.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.services import mlflow_server, postgres, s3_server  # noqa: E402

STAGES = ("None", "Archived", "Archived", "Staging", "Production")


def populate(db_uri: str, models: int, versions: int) -> float:
    from mlflow.entities.model_registry import ModelVersionTag, RegisteredModelTag
    from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore

    store = SqlAlchemyStore(db_uri)
    started = time.perf_counter()

    def one(i: int) -> None:
        name = f"bench-model-{i:04d}"
        store.create_registered_model(name, tags=[RegisteredModelTag("team", f"team-{i % 17}")], description=f"m{i}")
        for v in range(1, versions + 1):
            tags = [ModelVersionTag("validated", "yes")] if v % 3 == 0 else []
            store.create_model_version(name, source=f"s3://mlflow/bench/{i}/{v}", tags=tags, description=f"v{v}")
        for v, stage in ((versions - 1, "Staging"), (versions, "Production"), (1, "Archived")):
            store.transition_model_version_stage(name, str(v), stage, archive_existing_versions=False)
        store.set_registered_model_alias(name, "champion", str(versions))
        store.set_registered_model_alias(name, "challenger", str(versions - 1))

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(one, range(models)))
    import psycopg

    with psycopg.connect(db_uri.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("ANALYZE")  # a registry in service has planner statistics
    return time.perf_counter() - started


def run(args: list[str], env: dict[str, str], cwd: Path) -> tuple[float, subprocess.CompletedProcess, float]:
    """Wall time, the process, and its CPU time (user + system: the servers this script started are
    its children too, but only this process is reaped meanwhile)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "reconciler", *args], env=env, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, done, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def phases(stderr: str) -> dict[str, float]:
    line = next((x for x in stderr.splitlines() if x.startswith("timings: ")), "timings: ")
    return {k: float(v) for k, v in re.findall(r"(\w+)=([0-9.]+)", line)}


def median_runs(args: list[str], env: dict[str, str], cwd: Path, repeat: int, ok: tuple[int, ...]) -> dict:
    walls, cpus, parts = [], [], []
    for _ in range(repeat):
        wall, done, cpu = run(args, env, cwd)
        cpus.append(cpu)
        if done.returncode not in ok:
            raise SystemExit(f"reconciler {' '.join(args)} exited {done.returncode}: {done.stderr[-2000:]}")
        walls.append(wall)
        parts.append(phases(done.stderr))
    keys = sorted({k for p in parts for k in p})
    out = {"wall": statistics.median(walls), "walls": walls, "cpu": statistics.median(cpus)}
    out.update({k: statistics.median(p.get(k, 0.0) for p in parts) for k in keys})
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--versions", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cli-bench-") as tmp:
        work = Path(tmp)
        with postgres() as pg, s3_server(work) as s3, mlflow_server(work, pg, s3) as server:
            seconds = populate(server.env["MLFLOW_BACKEND_STORE_URI"], args.models, args.versions)
            print(f"populated {args.models} x {args.versions} in {seconds:.0f} s (not part of any figure)")
            base = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "RECONCILER_"))}
            env = {
                **base,
                "MLFLOW_TRACKING_URI": server.uri,
                "MLFLOW_TRACKING_USERNAME": "admin",
                "MLFLOW_TRACKING_PASSWORD": server.admin_password,
                "RECONCILER_TIMINGS": "1",
            }
            imported = run(["import", "--all"], env, work)[1]
            assert imported.returncode == 0, imported.stderr[-2000:]
            files = sorted((work / "models").glob("*.yaml"))
            listed = [len(json.loads(json.dumps(_versions(f)))) for f in files[:5]]
            print(f"{len(files)} files written by import (versions listed in the first five: {listed})")
            offline = {k: v for k, v in env.items() if not k.startswith("MLFLOW_")}
            validate = median_runs(["validate", "--offline"], offline, work, args.repeat, (0,))
            plan = median_runs(["plan", "--detailed-exitcode"], env, work, args.repeat, (0,))
    report(args, validate, plan)
    return 0


def _versions(path: Path) -> dict:
    from reconciler.files.yamlsource import read_model_file

    return read_model_file(path).data.get("versions", {})


def report(args: argparse.Namespace, validate: dict, plan: dict) -> None:
    """Wall and CPU time side by side: on a loaded machine wall time includes waiting for a core."""
    own = plan["wall"] - plan.get("read", 0.0)
    own_cpu = plan["cpu"] - plan.get("read_cpu", 0.0)
    inner = ("load", "check", "plan", "render")
    rows = [
        ("validate --offline, whole process", validate["wall"], validate["cpu"], "<= 1.0 s"),
        (
            "  of which load (read + parse + schema + typed)",
            validate.get("load", 0.0),
            validate.get("load_cpu", 0.0),
            "<= 0.3 s",
        ),
        ("plan (no-op), whole process", plan["wall"], plan["cpu"], ""),
        ("  registry read (not in the target)", plan.get("read", 0.0), plan.get("read_cpu", 0.0), ""),
        ("  everything else: start, imports, load, check, plan, render", own, own_cpu, "<= 1.0 s"),
        *((f"    {k}", plan.get(k, 0.0), plan.get(f"{k}_cpu", 0.0), "<= 0.3 s" if k == "load" else "") for k in inner),
        (
            "    start + imports (the rest)",
            own - sum(plan.get(k, 0.0) for k in inner),
            own_cpu - sum(plan.get(f"{k}_cpu", 0.0) for k in inner),
            "",
        ),
    ]
    print(f"\n{args.models} models x {args.versions} versions, median of {args.repeat} runs (seconds)")
    print(f"{'':<64} {'wall':>7}  {'CPU':>7}  target")
    for label, wall, cpu, target in rows:
        print(f"{label:<64} {wall:7.3f}  {cpu:7.3f}  {target}")
    print(f"registry calls of the plan: {int(plan.get('registry_calls', 0))}")
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"walls: validate {[round(w, 2) for w in validate['walls']]}, plan {[round(w, 2) for w in plan['walls']]}")


if __name__ == "__main__":
    raise SystemExit(main())
