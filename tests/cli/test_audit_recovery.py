"""The audit trail after things go wrong, on a local registry, in-process.

- An apply whose audit writes fail leaves a journal entry saying which records are missing; the
  next apply writes exactly those, crediting the ORIGINAL pull request and approvers, not its own.
- An apply killed between its writes and its records leaves its entry open; the next apply credits
  it with the changes the registry holds exactly as it intended, marked recovered, and nothing else.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler import engine
from reconciler.apply import execute
from reconciler.apply.audit import Audit
from reconciler.apply.journal import Journal
from reconciler.apply.writer import Outcome, Result
from reconciler.files.convert import from_document
from reconciler.registry.session import Session
from reconciler.registry.target import Target
from reconciler.state import Origin


def session_for(root: Path) -> Session:
    uri = f"sqlite:///{root / 'mlflow.db'}"
    return Session.open(Target(uri, uri, embedded=False), write=True)


@pytest.fixture
def session(tmp_path) -> Session:
    s = session_for(tmp_path)
    c = s.clients.registry
    c.create_registered_model("churn")
    for _ in range(2):
        c.create_model_version("churn", source=str(tmp_path / "artifacts"))
    return s


def desired(doc: dict):
    return [from_document({"name": "churn", **doc}, Origin("models/churn.yaml"))]


def apply(session: Session, doc: dict, **audit) -> execute.Report:
    plan = engine.plan(session, desired(doc))
    return execute.apply(session, plan, Audit(plan.plan_hash, **audit), execute.ApplyOptions(concurrency=1))


def record(session: Session, version: str | None = None) -> dict:
    c = session.clients.registry
    tags = c.get_registered_model("churn").tags if version is None else c.get_model_version("churn", version).tags
    return json.loads(tags["gitops.audit"])


def test_failed_audit_writes_are_completed_later_with_the_original_approvers(session, monkeypatch):
    def failing(applier, audit, run_id, changes, live, flags=None):
        return tuple(Result(cs[0], Outcome.FAILED, "simulated outage") for cs in changes.values())

    monkeypatch.setattr(execute, "write_records", failing)
    first = apply(session, {"aliases": {"champion": 2}}, pull_request="7", approvers=("lead-a",), commit="c7")
    assert not first.failed() and len(first.unrecorded()) == 1
    (entry,) = Journal(session.clients.registry).open_entries()
    assert entry.state == "incomplete" and entry.unrecorded == (("churn", None),)
    monkeypatch.undo()

    later = apply(session, {"aliases": {"champion": 2}}, pull_request="99", approvers=("someone-else",))
    assert not later.plan.has_changes() and later.recovered[0].written == 1
    got = record(session)
    assert got["pull_request"] == "7" and got["approved_by"] == ["lead-a"] and got["recorded_late"] is True
    assert got["changes"] == ["+ alias[champion]: None -> 2"]
    assert not Journal(session.clients.registry).open_entries()


def test_an_interrupted_apply_is_recovered_crediting_only_what_the_registry_holds(session, monkeypatch):
    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # the process dies after its writes, before its records

    monkeypatch.setattr(execute, "write_records", killed)
    doc = {"description": "new", "versions": {"1": {"description": "one"}, "2": {"description": "two"}}}
    with pytest.raises(KeyboardInterrupt):
        apply(session, doc, pull_request="8", approvers=("lead-b",))
    monkeypatch.undo()
    session.clients.registry.update_model_version("churn", "2", description="changed by hand since")

    later = apply(session, {}, pull_request="100")
    (done,) = later.recovered
    assert done.written == 2 and done.entry.audit.pull_request == "8"
    assert record(session)["recovered"] is True and record(session)["pull_request"] == "8"
    assert record(session, "1")["changes"] == ["~ v1 description: '' -> 'one'"]
    assert "gitops.audit" not in session.clients.registry.get_model_version("churn", "2").tags  # not credited
    (entry,) = Journal(session.clients.registry).history("churn", limit=5)[-1:]
    assert entry.state == "interrupted" and sorted(entry.outcomes.values()) == ["applied", "applied", "not_found"]


def test_a_registry_lost_while_closing_the_journal_is_reported_and_the_next_apply_closes_it(session, monkeypatch):
    """Found by the fault trials: the server killed after the last audit record, before the journal
    entry was closed, made apply exit 3 (an internal error). It is a user-facing outcome: every
    change applied and recorded, the entry left open, the next apply closes it."""
    from mlflow.exceptions import MlflowException

    from reconciler.apply import journal

    def unreachable(self, run_id, results, unrecorded):
        raise MlflowException("API request to http://registry/api/2.0/mlflow/runs/log-batch failed: refused")

    monkeypatch.setattr(journal.Journal, "finish", unreachable)
    first = apply(session, {"aliases": {"champion": 2}}, pull_request="7", approvers=("lead-a",))
    assert not first.failed() and not first.unrecorded()
    assert first.journal_open is not None and "log-batch" in first.journal_open
    assert record(session)["pull_request"] == "7"  # the record was written before the journal failed
    (entry,) = Journal(session.clients.registry).open_entries()
    monkeypatch.undo()

    later = apply(session, {"aliases": {"champion": 2}}, pull_request="99")
    assert not later.plan.has_changes() and later.journal_open is None
    assert not Journal(session.clients.registry).open_entries()
    assert record(session)["pull_request"] == "7" and record(session)["run"] == entry.run_id  # still credited to 7


def test_the_record_after_a_recovered_apply_names_the_recovered_run_as_previous(session, monkeypatch):
    """hostile9 #15: the apply that completed an interrupted apply's record then wrote its own over
    it, naming the run before the recovered one: the entity's chain skipped the recovered apply."""
    first = apply(session, {"description": "one"})
    assert first.journal_run is not None

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # the process dies after its writes, before its records

    monkeypatch.setattr(execute, "write_records", killed)
    with pytest.raises(KeyboardInterrupt):
        apply(session, {"description": "two"})
    monkeypatch.undo()
    (interrupted,) = Journal(session.clients.registry).open_entries()
    assert record(session)["run"] == first.journal_run[1]

    later = apply(session, {"description": "three"})
    assert [done.entry.run_id for done in later.recovered] == [interrupted.run_id] and later.journal_run is not None
    got = record(session)
    assert got["run"] == later.journal_run[1] and got["previous"] == interrupted.run_id  # the record it replaces
