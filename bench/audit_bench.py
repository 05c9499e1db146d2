"""Benchmark: 1,000 audited applies to one registered model on PostgreSQL.

    .venv/bin/python bench/audit_bench.py [--applies 1000]

Each apply changes a tag and a 4,900-character description of the same model, with a commit, a
pull request and 25 approvers, through `reconciler.apply.execute.apply` against a `postgresql://` registry
(what MLflow's SQL store enforces: tag values varchar(5000)). Reports failures (must be 0), the
size of the model's audit record (must stay under 5,000), the journal's length for the model, and
the time per apply (median).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reconciler import engine
from reconciler.apply import execute
from reconciler.apply.audit import AUDIT_TAG, Audit
from reconciler.apply.journal import Journal
from reconciler.files.convert import from_document
from reconciler.registry.session import Session
from reconciler.registry.target import Target
from reconciler.state import Origin
from tests.support.services import postgres

APPROVERS = tuple(f"lead-with-a-long-login-{i:02d}" for i in range(25))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--applies", type=int, default=1000)
    args = parser.parse_args()
    with postgres() as pg:
        uri = pg.uri("mlflow")
        session = Session.open(Target(uri, uri, embedded=False), write=True)
        client = session.clients.registry
        client.create_registered_model("audit-bench")
        failures, sizes, times = 0, [], []
        for i in range(args.applies):
            doc = {"name": "audit-bench", "description": f"round {i} " + "x" * 4890, "tags": {"round": str(i)}}
            started = time.perf_counter()
            plan = engine.plan(session, [from_document(doc, Origin("models/audit-bench.yaml"))])
            audit = Audit(plan.plan_hash, commit=f"{i:040x}", pull_request=str(i), approvers=APPROVERS, actor="ci")
            report = execute.apply(session, plan, audit, execute.ApplyOptions())
            times.append(time.perf_counter() - started)
            failures += len(report.failed()) + len(report.unrecorded())
            sizes.append(len(client.get_registered_model("audit-bench").tags[AUDIT_TAG]))
            if (i + 1) % 100 == 0:
                print(f"{i + 1} applies, {failures} failures, record {sizes[-1]} chars", flush=True)
        history = Journal(client).history("audit-bench", limit=args.applies + 10)
        last = json.loads(client.get_registered_model("audit-bench").tags[AUDIT_TAG])
        print(
            json.dumps(
                {
                    "applies": args.applies,
                    "failed_changes_or_records": failures,
                    "max_record_chars": max(sizes),
                    "journal_entries_for_model": len(history),
                    "journal_in_order": [e.audit.pull_request for e in history]
                    == [str(i) for i in reversed(range(args.applies))],
                    "last_record_pull_request": last["pull_request"],
                    "median_seconds_per_plan_and_apply": round(statistics.median(times), 3),
                },
                indent=2,
            )
        )
        return 0 if failures == 0 and max(sizes) <= 5000 and len(history) == args.applies else 1


if __name__ == "__main__":
    raise SystemExit(main())
