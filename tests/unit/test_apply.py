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

from reconciler.apply import AUDIT_TAG, Applier, Audit
from reconciler.plan import Action, Address, Change, Field, Plan, sorted_changes
from reconciler.registry import Target

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
