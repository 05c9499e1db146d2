"""Benchmark: the CLI as the user runs it, as whole processes, against the REST floor.

    .venv/bin/python bench/cli_bench.py [--sizes 500x10,1000x20 --repeat 5 --hold DIR]

For each size, a PostgreSQL-backed `mlflow server`, started as deployed (one worker, basic auth),
holds that many registered models and versions (descriptions, tags, a stage, aliases), populated
through MLflow's SQL store; `reconciler import --all` writes their files, so the plan is a no-op by
construction. Then, in turns (floor, plan, floor, plan, ...), each a whole process:

  the REST floor                     bench/rest_floor.py: one paged search of the models and one
                                     of the versions, raw HTTP, no MLflow: no reader is faster
  reconciler plan                    the whole process, and its phases (RECONCILER_TIMINGS=1)
  reconciler validate --offline      the whole process (what pre-commit runs)

and the ratio plan / floor pair by pair (so a machine whose speed drifts compares like with like).
Targets (issue 19): the no-op plan within 1.2x the floor at both sizes; validate --offline on
1,000 x 20 under 1 s. `--hold DIR`: before measuring each size, write DIR/<size>.env (the server's
environment) and wait until DIR/<size>.done exists, so an outside timer can measure the same server.
"""

from __future__ import annotations

import argparse
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


def measure(args: list[str], env: dict[str, str], cwd: Path, ok: tuple[int, ...]) -> dict:
    wall, done, cpu = run(args, env, cwd)
    if done.returncode not in ok:
        raise SystemExit(f"{' '.join(args)} exited {done.returncode}: {done.stderr[-2000:]}")
    return {"wall": wall, "cpu": cpu, **phases(done.stderr), "stdout": done.stdout}


def floor_process(env: dict[str, str], cwd: Path) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "rest_floor.py")], env=env, cwd=cwd, capture_output=True, text=True
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"rest_floor.py exited {done.returncode}: {done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "stdout": done.stdout}


def median(runs: list[dict], key: str) -> float:
    return statistics.median(r.get(key, 0.0) for r in runs)


def one_size(models: int, versions: int, repeat: int, hold: Path | None) -> dict:
    with tempfile.TemporaryDirectory(prefix="cli-bench-") as tmp:
        work = Path(tmp)
        with postgres() as pg, s3_server(work) as s3, mlflow_server(work, pg, s3) as server:
            seconds = populate(server.env["MLFLOW_BACKEND_STORE_URI"], models, versions)
            print(f"{models} x {versions}: populated in {seconds:.0f} s (not part of any figure)", flush=True)
            base = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "RECONCILER_"))}
            env = {
                **base,
                "MLFLOW_TRACKING_URI": server.uri,
                "MLFLOW_TRACKING_USERNAME": "admin",
                "MLFLOW_TRACKING_PASSWORD": server.admin_password,
            }
            imported = run(["import", "--all"], env, work)[1]
            assert imported.returncode == 0, imported.stderr[-2000:]
            files = sorted((work / "models").glob("*.yaml"))
            listed = [len(_versions(f)) for f in files[:5]]
            print(f"{len(files)} files written by import (versions listed in the first five: {listed})", flush=True)
            if hold is not None:
                _hold(hold, f"{models}x{versions}", env, work)
            timed = {**env, "RECONCILER_TIMINGS": "1"}
            floors, plans = [], []
            for _ in range(repeat):
                floors.append(floor_process(env, work))
                plans.append(measure(["plan", "--detailed-exitcode"], timed, work, (0,)))
            expected = f"{models} models, {models * versions} versions"
            assert all(f["stdout"].strip() == expected for f in floors), floors[0]["stdout"]
            offline = {k: v for k, v in timed.items() if not k.startswith("MLFLOW_")}
            validates = [measure(["validate", "--offline"], offline, work, (0,)) for _ in range(repeat)]
    return {"models": models, "versions": versions, "floor": floors, "plan": plans, "validate": validates}


def _hold(hold: Path, name: str, env: dict[str, str], work: Path) -> None:
    """The server's environment for an outside timer; wait until it says it is done."""
    hold.mkdir(parents=True, exist_ok=True)
    keys = ("MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD")
    lines = [f"export {k}={env[k]}" for k in keys] + [f"cd {work}"]
    (hold / f"{name}.env").write_text("\n".join(lines) + "\n")
    print(f"holding: source {hold / f'{name}.env'}; touch {hold / f'{name}.done'} to go on", flush=True)
    while not (hold / f"{name}.done").exists():
        time.sleep(1)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="500x10,1000x20", help="models x versions, comma-separated")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--hold", type=Path, help="wait for an outside timer before each size (see above)")
    args = parser.parse_args()
    sizes = [tuple(int(n) for n in size.split("x")) for size in args.sizes.split(",")]
    for m, v in sizes:
        report(one_size(m, v, args.repeat, args.hold), args.repeat)  # each size's figures when they are in
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return 0


def _versions(path: Path) -> dict:
    from reconciler.files.yamlsource import read_model_file

    return read_model_file(path).data.get("versions", {})


def report(r: dict, repeat: int) -> None:
    """Wall and CPU time side by side: on a loaded machine wall time includes waiting for a core."""
    floors, plans, validates = r["floor"], r["plan"], r["validate"]
    ratios = [p["wall"] / f["wall"] for f, p in zip(floors, plans, strict=True)]
    big = r["models"] * r["versions"] >= 20_000
    rows = [
        (
            "REST floor (models + versions searches, raw HTTP), whole process",
            median(floors, "wall"),
            median(floors, "cpu"),
            "",
        ),
        ("plan (no-op), whole process", median(plans, "wall"), median(plans, "cpu"), ""),
        ("  the registry read, started first (in a thread)", median(plans, "early_read"), 0.0, ""),
        ("  load (files)", median(plans, "load"), median(plans, "load_cpu"), ""),
        ("  waiting for the read after the load", median(plans, "read"), median(plans, "read_cpu"), ""),
        (
            "  check + plan + render",
            *(sum(median(plans, f"{k}{c}") for k in ("check", "plan", "render")) for c in ("", "_cpu")),
            "",
        ),
        (
            "validate --offline, whole process",
            median(validates, "wall"),
            median(validates, "cpu"),
            "< 1.0 s" if big else "",
        ),
    ]
    print(f"\n{r['models']} models x {r['versions']} versions, median of {repeat} runs (seconds)")
    print(f"{'':<68} {'wall':>7}  {'CPU':>7}  target")
    for label, wall, cpu, target in rows:
        cpu_text = f"{cpu:7.3f}" if cpu else f"{'-':>7}"
        print(f"{label:<68} {wall:7.3f}  {cpu_text}  {target}")
    print(f"{'plan / floor, wall, median of the pairs':<68} {statistics.median(ratios):7.2f}  {'':>7}  <= 1.2")
    print(f"registry calls of the plan: {int(median(plans, 'registry_calls'))}")
    print(f"walls: floor {[round(f['wall'], 2) for f in floors]}, plan {[round(p['wall'], 2) for p in plans]}")
    print(f"ratios: {[round(x, 2) for x in ratios]}")


if __name__ == "__main__":
    raise SystemExit(main())
