"""Benchmark: the reconciler against a PostgreSQL-backed `mlflow server` with 1,000 models x 20 versions.

    make bench            # or: .venv/bin/python bench/registry_bench.py [--models 1000 --versions 20]

Reports, in one run (medians of --repeat runs where repeated):
  1. the no-op plan: wall time and number of registry API calls;
  2. the same read done the guide's way (a call per model and per version), on a sample of models,
     extrapolated to the whole registry (labeled as such);
  3. apply of 1,000 changes (alias moves, one per model, with the audit trail);
  4. the kept-alive stall: a registry GET and a tag write against a 2-worker server, with MLflow's
     default client and with the reconciler's quick-ACK client (reconciler/registry/http.py).
The server is started exactly as deployed (infra/server_command.py: one worker, basic auth,
artifacts proxied to S3). Timings on shared machines are noisy: compare ratios within one run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reconciler import engine
from reconciler.apply import execute
from reconciler.apply.audit import Audit
from reconciler.files.convert import from_document
from reconciler.files.importer import live_document
from reconciler.plan.builder import build_plan
from reconciler.registry.target import Target
from tests.support.services import mlflow_server, postgres, replicas, s3_server


def populate(db_uri: str, models: int, versions: int) -> float:
    """Fill the registry through MLflow's own SQL store (the REST API would take ~15 minutes)."""
    from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore

    store = SqlAlchemyStore(db_uri)
    started = time.perf_counter()

    def one(i: int) -> None:
        name = f"bench-model-{i:04d}"
        store.create_registered_model(name, description=f"benchmark model {i}")
        for v in range(versions):
            store.create_model_version(name, source=f"s3://mlflow/bench/{i}/{v}", run_id=None)
        store.transition_model_version_stage(name, str(versions), "Production", archive_existing_versions=False)
        store.set_registered_model_alias(name, "champion", str(versions))

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(one, range(models)))
    # Fresh tables have no planner statistics until autovacuum gets to them (up to a minute later);
    # until then PostgreSQL picks plans that make a models search take ~15 s. A registry in service
    # has statistics, so gather them now rather than measure that minute.
    import psycopg

    with psycopg.connect(db_uri, autocommit=True) as conn:
        conn.execute("ANALYZE")
    return time.perf_counter() - started


ROLES = {"mlflow server": ("uvicorn", "mlflow.server"), "postgres": ("postgres",), "proxy": ("tests.support.proxy",)}


def cpu_seconds() -> dict[tuple[str, str], float]:
    """CPU time used so far by each process of this benchmark: (role, pid) -> seconds (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    used: dict[tuple[str, str], float] = {("reconciler (this process)", "self"): time.process_time()}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        role = next((r for r, marks in ROLES.items() if any(m in cmdline for m in marks)), None)
        if role:
            used[(role, pid)] = (int(fields[11]) + int(fields[12])) / tick
    return used


def cpu_spent(before: dict[tuple[str, str], float], after: dict[tuple[str, str], float]) -> dict[str, float]:
    """CPU seconds by role between two snapshots (a process that exited in between is not counted)."""
    spent = dict.fromkeys(["reconciler (this process)", *ROLES], 0.0)
    for (role, pid), seconds in after.items():
        spent[role] += seconds - before.get((role, pid), 0.0)
    return spent


def timed(fn):
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def noop_plan(session: engine.Session, desired) -> tuple[float, int, int]:
    session.counter.calls = 0
    seconds, plan = timed(lambda: engine.plan(session, desired))
    return seconds, session.counter.calls, len(plan.changes)


def per_version_read(client, names: list[str]) -> tuple[float, int]:
    """The guide's scripts: get each model, then each of its versions, one call at a time."""
    calls = 0
    started = time.perf_counter()
    for name in names:
        model = client.get_registered_model(name)
        calls += 1
        latest = max(int(v.version) for v in client.get_latest_versions(name))
        calls += 1
        for v in range(1, latest + 1):
            client.get_model_version(model.name, str(v))
            calls += 1
    return time.perf_counter() - started, calls


def stall(uri: str, env: dict[str, str]) -> dict[str, tuple[float, float]]:
    """Median GET and tag-write latency against `uri`, default client vs quick-ACK client."""
    import subprocess

    code = (
        "import sys, time, statistics\n"
        "if sys.argv[1] == 'quickack':\n"
        "    from reconciler.registry.http import install_quickack; install_quickack()\n"
        "from mlflow import MlflowClient\n"
        f"c = MlflowClient(tracking_uri={uri!r}, registry_uri={uri!r})\n"
        "g, w = [], []\n"
        "for i in range(40):\n"
        "    t = time.perf_counter(); c.get_registered_model('bench-model-0000'); g.append(time.perf_counter() - t)\n"
        "    t = time.perf_counter(); c.set_registered_model_tag('bench-model-0000', 'k', str(i)); "
        "w.append(time.perf_counter() - t)\n"
        "print(statistics.median(g) * 1000, statistics.median(w) * 1000)\n"
    )
    out = {}
    for mode in ("default", "quickack"):
        done = subprocess.run(
            [sys.executable, "-c", code, mode],
            env={**os.environ, **env, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
            capture_output=True,
            text=True,
            check=True,
        )
        get_ms, write_ms = map(float, done.stdout.split())
        out[mode] = (get_ms, write_ms)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--versions", type=int, default=20)
    parser.add_argument("--sample", type=int, default=20, help="models read the per-version way")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--replicas", type=int, default=2, help="replicas in the deployed-shape run")
    parser.add_argument("--concurrency", type=int, default=8, help="the reconciler's parallel writes")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="registry-bench-"))
    with postgres() as pg, s3_server(work) as s3:
        print(f"populating {args.models} models x {args.versions} versions …", flush=True)
        seconds = populate(pg.uri("mlflow"), args.models, args.versions)
        print(f"  populated in {seconds:.1f} s (SQL store, not timed below)")
        with mlflow_server(work / "w1", pg, s3) as server:
            report(server, args, "one server (1 worker)", args.versions - 1)
        with replicas(work / "rs", pg, s3, args.replicas) as server:
            report(
                server, args, f"{args.replicas} replicas behind a round-robin proxy (as deployed)", args.versions - 2
            )
        with mlflow_server(work / "w2", pg, s3, workers=2) as server2:
            creds = {"MLFLOW_TRACKING_USERNAME": "admin", "MLFLOW_TRACKING_PASSWORD": server2.admin_password}
            result = stall(server2.uri, creds)
    print("\n4. Kept-alive stall against a 2-worker server (median of 40, ms)")
    for mode, (get_ms, write_ms) in result.items():
        label = "MLflow default client" if mode == "default" else "reconciler (TCP_QUICKACK per response)"
        print(f"   {label:42s} GET {get_ms:6.1f}   tag write {write_ms:6.1f}")


def report(server, args, label: str, alias_version: int) -> None:
    print(f"\n== {label}")
    os.environ.update(MLFLOW_TRACKING_USERNAME="admin", MLFLOW_TRACKING_PASSWORD=server.admin_password)
    target = Target(server.uri, server.uri, embedded=False)
    session = engine.Session.open(target)
    live = session.read()
    assert sum(len(m.versions) for m in live.models.values()) == args.models * args.versions
    desired = [from_document(live_document(m), f"models/{m.name}.yaml") for m in live.models.values()]

    runs = [noop_plan(session, desired) for _ in range(args.repeat)]
    noop_s = statistics.median(r[0] for r in runs)
    calls, changes = runs[0][1], runs[0][2]
    print(
        f"1. No-op plan, {args.models} models x {args.versions} versions: median {noop_s:.2f} s over "
        f"{args.repeat} runs ({', '.join(f'{r[0]:.2f}' for r in runs)}); {calls} API calls; {changes} changes"
    )
    assert changes == 0

    names = sorted(live.models)[: args.sample]
    sample_s, sample_calls = per_version_read(session.client, names)
    whole_s = sample_s * args.models / len(names)
    whole_calls = sample_calls * args.models // len(names)
    print(
        f"2. Per-version read (the guide's way): {len(names)} models took {sample_s:.2f} s in {sample_calls} calls; "
        f"EXTRAPOLATED to {args.models} models: ~{whole_s:.0f} s, ~{whole_calls} calls "
        f"-> the no-op plan is {whole_s / noop_s:.0f}x faster"
    )

    moved = [d.__class__(**{**d.__dict__, "aliases": {"champion": alias_version}}) for d in desired]
    live = session.read()
    the_plan = build_plan(moved, live)
    assert len(the_plan.changes) == args.models
    before = cpu_seconds()
    seconds, result = timed(
        lambda: execute.apply(session, the_plan, Audit(the_plan.plan_hash, "bench"), args.concurrency, live=live)
    )
    after = cpu_seconds()
    failed = result.failed() + result.audit_failed()
    writes = len(result.results) + len(result.audits)
    print(
        f"3. Apply of {len(the_plan.changes)} changes (alias moves) with concurrency {args.concurrency}: "
        f"{seconds:.2f} s ({len(result.results)} changes + {result.audited} audit tags = "
        f"{writes} writes, {writes / seconds:.1f} writes/s, {len(failed)} failed)"
    )
    spent = cpu_spent(before, after)
    total = sum(spent.values())
    print("   CPU per write: " + ", ".join(f"{role} {t / writes * 1000:.1f} ms" for role, t in spent.items()))
    cores = os.cpu_count() or 1
    print(
        f"   => {total / writes * 1000:.1f} ms of CPU per write; with {cores} cores fully used this machine can do "
        f"at most {cores * writes / total:.0f} writes/s: these {writes} writes cannot take less than "
        f"{total / cores:.1f} s here"
    )
    after = build_plan(moved, session.read())
    print(f"   re-plan after apply: {len(after.changes)} changes (idempotent)")


if __name__ == "__main__":
    main()
