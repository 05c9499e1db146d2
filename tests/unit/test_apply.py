"""The applier's mechanics: order, retries, per-change failures, audit.

A real MLflow server cannot be made to fail transiently on demand, so these use a recording
stand-in for MlflowClient that raises the exceptions MLflow raises (MlflowException with the HTTP
status of a 503, RESOURCE_DOES_NOT_EXIST); the integration tests cover the real server.
"""

from __future__ import annotations

import json
import threading

from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import PERMISSION_DENIED, RESOURCE_DOES_NOT_EXIST, TEMPORARILY_UNAVAILABLE

from reconciler.apply import AUDIT_TAG, MAX_AUDIT_CHANGES, MAX_AUDIT_CHARS, MAX_HISTORY, Applier, Audit
from reconciler.plan import Action, Address, Change, Field, Plan, sorted_changes
from reconciler.registry import Target, redact
from reconciler.state import LiveModel, LiveState, LiveVersion, Stage

TARGET = Target("http://registry", "http://registry", embedded=False)


class RecordingClient:
    def __init__(self, fail: dict[str, list[Exception]] | None = None):
        self.calls: list[tuple] = []
        self.fail = fail or {}
        self.lock = threading.Lock()

    def __getattr__(self, method):
        def call(*args, **kwargs):
            with self.lock:
                self.calls.append((method, *args))
                errors = self.fail.get(f"{method}:{args[0]}", [])
                if errors:
                    raise errors.pop(0)

        return call


def change(model, field, action=Action.UPDATE, version=None, key=None, before=None, after=None):
    return Change(Address(model, version, field, key), action, before, after)


PLAN = Plan(
    sorted_changes(
        [
            change("m", Field.STAGE, version=1, before="Production", after="Archived"),
            change("m", Field.STAGE, version=2, before="Staging", after="Production"),
            change("m", Field.ALIAS, Action.CREATE, key="champion", after=2),
            change("m", Field.TAG, Action.DELETE, key="old", before="x"),
            change("new", Field.MODEL, Action.CREATE, after="desc"),
            change("new", Field.TAG, Action.CREATE, key="team", after="a"),
        ]
    )
)


def test_waves_create_then_promote_then_archive_and_delete_then_audit():
    client = RecordingClient()
    report = Applier(client, TARGET, concurrency=1).apply(PLAN, Audit("sha256:p", commit="abc"))
    methods = [c[0] for c in client.calls]
    assert methods[0] == "create_registered_model"
    promote = client.calls.index(("transition_model_version_stage", "m", "2", "Production"))
    alias = client.calls.index(("set_registered_model_alias", "m", "champion", "2"))
    archive = client.calls.index(("transition_model_version_stage", "m", "1", "Archived"))
    delete = methods.index("delete_registered_model_tag")
    assert max(promote, alias) < min(archive, delete)  # a stage is never left empty in between
    audits = [
        c for c in client.calls if c[0] in ("set_registered_model_tag", "set_model_version_tag") and c[-2] == AUDIT_TAG
    ]
    assert {(c[0], c[1]) for c in audits} == {
        ("set_registered_model_tag", "m"),
        ("set_registered_model_tag", "new"),
        ("set_model_version_tag", "m"),
    }
    assert report.audited == 4 and not report.failed()
    record = json.loads(next(c[-1] for c in audits if c[1] == "new"))
    assert record["commit"] == "abc" and record["plan"] == "sha256:p"


def test_transient_errors_are_retried():
    unavailable = MlflowException("busy", error_code=TEMPORARILY_UNAVAILABLE)
    client = RecordingClient({"set_registered_model_alias:m": [unavailable, unavailable]})
    report = Applier(client, TARGET, concurrency=4).apply(PLAN, Audit("sha256:p"))
    assert not report.failed()
    assert sum(1 for c in client.calls if c[0] == "set_registered_model_alias") == 3


def test_a_failing_change_is_reported_and_the_rest_applied():
    missing = MlflowException("no such version", error_code=RESOURCE_DOES_NOT_EXIST)
    client = RecordingClient({"set_registered_model_alias:m": [missing]})
    report = Applier(client, TARGET, concurrency=4).apply(PLAN, Audit("sha256:p"))
    (failed,) = report.failed()
    assert failed.change.address.field is Field.ALIAS and "RESOURCE_DOES_NOT_EXIST" in failed.error
    assert ("transition_model_version_stage", "m", "2", "Production") in client.calls
    assert sum(1 for c in client.calls if c[0] == "set_registered_model_alias") == 1  # not retried


def test_changes_of_a_model_that_could_not_be_created_are_skipped():
    denied = MlflowException("denied", error_code=PERMISSION_DENIED)
    client = RecordingClient({"create_registered_model:new": [denied]})
    report = Applier(client, TARGET, concurrency=2).apply(PLAN, Audit("sha256:p"))
    failed = {r.change.address.model: r for r in report.failed()}
    assert set(failed) == {"new"} and len(report.failed()) == 2
    assert any(r.skipped for r in report.failed())
    assert not any(c[1] == "new" for c in client.calls if c[0] != "create_registered_model")


def _live_with_audit(model_audit: str | None, version_audit: str | None = None) -> LiveState:
    tags = {AUDIT_TAG: version_audit} if version_audit else {}
    versions = {n: LiveVersion(n, Stage.STAGING, "", tags) for n in (1, 2)}
    m = LiveModel("m", "", {AUDIT_TAG: model_audit} if model_audit else {}, {}, versions)
    return LiveState({"m": m})


def _written_audit(client: RecordingClient, model: str, version: str | None = None) -> dict:
    for c in client.calls:
        on_model = c[0] == "set_registered_model_tag"
        if c[-2] == AUDIT_TAG and c[1] == model and (version is None) == on_model and (on_model or c[2] == version):
            return json.loads(c[-1])
    raise AssertionError(f"no audit write on {model} {version}")


def test_a_later_apply_keeps_the_earlier_records_as_history():
    first = Audit("sha256:first", commit="aaa", approvers=("lead",)).tag_value([PLAN.changes[0]])
    client = RecordingClient()
    Applier(client, TARGET, concurrency=1).apply(PLAN, Audit("sha256:p", commit="bbb"), _live_with_audit(first))
    record = _written_audit(client, "m")
    assert record["commit"] == "bbb" and record["plan"] == "sha256:p"
    history = [(h["plan"], h["commit"], h["approved_by"]) for h in record["history"]]
    assert history == [("sha256:first", "aaa", ["lead"])]
    assert "history" not in _written_audit(client, "new")  # a new model has no earlier record


def test_history_is_bounded_in_records_and_size():
    value = None
    for i in range(MAX_HISTORY + 10):
        value = Audit(f"sha256:{i}").tag_value([PLAN.changes[0]], value)
    record = json.loads(value)
    assert record["plan"] == f"sha256:{MAX_HISTORY + 9}" and len(record["history"]) == MAX_HISTORY
    assert record["history"][0]["plan"] == f"sha256:{MAX_HISTORY + 8}"  # newest first, oldest dropped
    assert record["history_truncated"] is True and "history_truncated" not in record["history"][0]
    huge = change("m", Field.DESCRIPTION, after="x" * 50_000)
    many = [change("m", Field.TAG, key=f"k{i}", after="y" * 5_000) for i in range(MAX_AUDIT_CHANGES + 5)]
    for i in range(MAX_HISTORY):
        value = Audit(f"sha256:big{i}").tag_value([huge, *many], value)
    assert len(value) <= MAX_AUDIT_CHARS and json.loads(value)["more_changes"] == 6
    assert Audit("sha256:x").tag_value([huge], "not json {")  # a hand-edited tag does not break an apply


def test_a_failed_audit_write_is_reported_and_a_rerun_of_the_plan_writes_it():
    denied = MlflowException("denied", error_code=PERMISSION_DENIED)
    client = RecordingClient({"set_registered_model_tag:m": [denied]})
    report = Applier(client, TARGET, concurrency=2).apply(PLAN, Audit("sha256:p"))
    assert not report.failed()
    (missing,) = report.audit_failed()
    assert missing.change.address.model == "m" and "denied permission (HTTP 403)" in missing.error

    # The re-run sees the changes applied: it writes only the records that are missing, marked late
    # (here: on model m, and on the model "new", absent from this live state).
    version_audit = Audit(PLAN.plan_hash).tag_value([PLAN.changes[0]])
    live = _live_with_audit(model_audit=None, version_audit=version_audit)
    again = RecordingClient()
    completed = Applier(again, TARGET, concurrency=2).complete_audit(PLAN, Audit(PLAN.plan_hash), live)
    written = {(c[0], c[1]) for c in again.calls}
    assert ("set_registered_model_tag", "m") in written and ("set_model_version_tag", "m") not in written
    assert _written_audit(again, "m")["recorded_late"] is True and completed.audited == len(written)


def test_an_old_plan_rerun_adds_no_record_where_the_trail_was_truncated():
    value = None
    for i in range(MAX_HISTORY + 2):  # many later applies: the oldest records were dropped
        value = Audit(f"sha256:later{i}").tag_value([PLAN.changes[0]], value)
    live = _live_with_audit(model_audit=value, version_audit=value)
    again = RecordingClient()
    Applier(again, TARGET, concurrency=1).complete_audit(PLAN, Audit(PLAN.plan_hash), live)
    assert {c[1] for c in again.calls} == {"new"}  # only the model absent from the registry read


def test_servers_and_database_servers_take_parallel_writes_sqlite_does_not():
    def parallel(uri: str) -> bool:
        return Target(uri, uri, embedded=False).concurrent_writes

    assert parallel("https://mlflow.example.com") and parallel("postgresql://u@db/mlflow")
    assert parallel("mysql+pymysql://u@db/mlflow")
    assert not parallel("sqlite:///mlflow.db") and not parallel("./mlruns")


def test_messages_show_a_registry_uri_without_its_password():
    assert (
        redact("postgresql+psycopg://mlflow:s3cr%40t@db:5432/mlflow")
        == "postgresql+psycopg://mlflow:***@db:5432/mlflow"
    )
    assert redact("https://user:tok@mlflow.example.com/") == "https://user:***@mlflow.example.com/"
    assert redact("https://mlflow.example.com") == "https://mlflow.example.com"
    uri = "postgresql://u:pw@db/mlflow"
    assert Target(uri, uri, embedded=False).describe() == "postgresql://u:***@db/mlflow"
