"""The audit trail fits PostgreSQL's real limits however long it grows (bench/audit_bench.py runs
1,000 applies; a shorter run here). Before the fix, about the 20th audited apply to one model
failed with "varchar(5000)" and every later one the same way."""

from __future__ import annotations

import json

import pytest

from reconciler import engine
from reconciler.apply import execute
from reconciler.apply.audit import AUDIT_TAG, Audit
from reconciler.apply.journal import Journal
from reconciler.files.convert import from_document
from reconciler.registry.session import Session
from reconciler.registry.target import Target
from reconciler.state import Origin

pytestmark = pytest.mark.integration

APPLIES = 30
APPROVERS = tuple(f"lead-with-a-long-login-{i:02d}" for i in range(25))


def test_many_audited_applies_to_one_model_on_postgresql(live_stack):
    uri = live_stack.server.env["MLFLOW_BACKEND_STORE_URI"]
    session = Session.open(Target(uri, uri, embedded=False), write=True)
    client = session.clients.registry
    client.create_registered_model("audit-pg")
    for i in range(APPLIES):
        doc = {"name": "audit-pg", "description": f"round {i} " + "x" * 4900, "tags": {"round": str(i)}}
        plan = engine.plan(session, [from_document(doc, Origin("models/audit-pg.yaml"))])
        audit = Audit(plan.plan_hash, commit=f"{i:040x}", pull_request=str(1000 + i), approvers=APPROVERS, actor="ci")
        report = execute.apply(session, plan, audit, execute.ApplyOptions())
        assert report.results and not report.failed() and not report.unrecorded(), (i, report)
    value = client.get_registered_model("audit-pg").tags[AUDIT_TAG]
    record = json.loads(value)
    assert len(value) <= 5000 and record["pull_request"] == str(1000 + APPLIES - 1)
    history = Journal(client).history("audit-pg", limit=APPLIES + 10)
    assert [e.audit.pull_request for e in history] == [str(1000 + i) for i in reversed(range(APPLIES))]
    assert all(e.audit.approvers == APPROVERS and e.state == "applied" for e in history)
    assert record["run"] == history[0].run_id and record["previous"] == history[1].run_id  # the chain back
