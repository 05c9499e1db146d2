"""The applier's mechanics: order, retries, honest per-change outcomes, bounded audit records.

A real MLflow server cannot be made to fail transiently on demand, so these use a double of
MlflowClient made with `create_autospec`: it has MLflow's real method signatures, so a misspelled
call or a wrong argument fails here as it would against MLflow. It raises the exceptions MLflow
raises (MlflowException with the HTTP status of a 503, RESOURCE_DOES_NOT_EXIST, a broken
connection); the integration tests cover the real server.
"""

from __future__ import annotations

import json
from unittest.mock import create_autospec

import pytest
import requests
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import PERMISSION_DENIED, RESOURCE_DOES_NOT_EXIST, TEMPORARILY_UNAVAILABLE

from reconciler.apply.audit import MAX_RECORD_CHARS, Audit, entity_record
from reconciler.apply.writer import Applier, Outcome
from reconciler.errors import LockLost
from reconciler.masking import mask
from reconciler.plan.values import MODEL, Action, Address, Change, sorted_changes
from reconciler.registry.clients import Clients
from reconciler.registry.target import Target

TARGET = Target("http://registry", "http://registry", embedded=False)


def double(fail: dict[str, list[BaseException]] | None = None) -> tuple[Clients, MlflowClient]:
    """An MlflowClient double; `fail` maps "method:first-argument" to exceptions raised in turn."""
    client = create_autospec(MlflowClient, instance=True)
    failures = fail or {}
    for name in dir(MlflowClient):
        if name.startswith("_"):
            continue
        method = getattr(client, name)

        def side_effect(*args, _name=name, **kwargs):
            errors = failures.get(f"{_name}:{args[0] if args else ''}", [])
            if errors:
                raise errors.pop(0)

        method.side_effect = side_effect
    return Clients(registry=client), client


def change(model, field, action=Action.UPDATE, version=None, key=None, before=None, after=None):
    return Change(Address(model, version, field, key), action, before, after)


CHANGES = sorted_changes(
    [
        change("m", "stage", version=1, before="Production", after="Archived"),
        change("m", "stage", version=2, before="Staging", after="Production"),
        change("m", "alias", Action.CREATE, key="champion", after=2),
        change("m", "tag", Action.DELETE, key="old", before="x"),
        change("new", MODEL, Action.CREATE, after="desc"),
        change("new", "tag", Action.CREATE, key="team", after="a"),
    ]
)


def calls(client) -> list[tuple]:
    return [(c[0], *c[1]) for c in client.method_calls]


def test_waves_create_then_promote_then_archive_and_delete():
    clients, client = double()
    results = Applier(clients, TARGET, concurrency=1).apply(CHANGES)
    made = calls(client)
    assert made[0] == ("create_registered_model", "new")
    promote = made.index(("transition_model_version_stage", "m", "2", "Production"))
    alias = made.index(("set_registered_model_alias", "m", "champion", "2"))
    archive = made.index(("transition_model_version_stage", "m", "1", "Archived"))
    delete = made.index(("delete_registered_model_tag", "m", "old"))
    assert max(promote, alias) < min(archive, delete)  # a stage is never left empty in between
    assert all(r.outcome is Outcome.APPLIED for r in results) and len(results) == len(CHANGES)


def test_the_double_refuses_a_call_mlflow_does_not_have():
    _, client = double()
    with pytest.raises(AttributeError):
        client.set_model_alias("m", "champion", "2")  # MLflow names it set_registered_model_alias
    with pytest.raises(TypeError):
        client.set_registered_model_alias("m", "champion")  # a missing argument


def test_transient_errors_are_retried():
    unavailable = MlflowException("busy", error_code=TEMPORARILY_UNAVAILABLE)
    clients, client = double({"set_registered_model_alias:m": [unavailable, unavailable]})
    results = Applier(clients, TARGET, concurrency=4).apply(CHANGES)
    assert all(r.ok for r in results)
    assert sum(1 for c in calls(client) if c[0] == "set_registered_model_alias") == 3


def test_a_failing_change_is_reported_and_the_rest_applied():
    missing = MlflowException("no such version", error_code=RESOURCE_DOES_NOT_EXIST)
    clients, client = double({"set_registered_model_alias:m": [missing]})
    results = Applier(clients, TARGET, concurrency=4).apply(CHANGES)
    (failed,) = [r for r in results if not r.ok]
    assert failed.change.address.field == "alias" and failed.outcome is Outcome.FAILED
    assert "RESOURCE_DOES_NOT_EXIST" in (failed.error or "")
    assert ("transition_model_version_stage", "m", "2", "Production") in calls(client)
    assert sum(1 for c in calls(client) if c[0] == "set_registered_model_alias") == 1  # not retried


def test_a_broken_connection_is_unconfirmed_not_failed():
    """The write may have reached the server: the report must not say it did not."""
    broken = requests.exceptions.ConnectionError("Connection aborted.")
    clients, _ = double({"set_registered_model_alias:m": [broken, broken, broken]})
    results = Applier(clients, TARGET, concurrency=1).apply(CHANGES)
    (unsure,) = [r for r in results if not r.ok]
    assert unsure.outcome is Outcome.UNCONFIRMED and "may or may not have been applied" in (unsure.error or "")


def test_changes_of_a_model_that_could_not_be_created_are_skipped():
    denied = MlflowException("denied", error_code=PERMISSION_DENIED)
    clients, client = double({"create_registered_model:new": [denied]})
    results = Applier(clients, TARGET, concurrency=2).apply(CHANGES)
    failed = [r for r in results if not r.ok]
    assert {r.change.address.model for r in failed} == {"new"} and len(failed) == 2
    assert {r.outcome for r in failed} == {Outcome.FAILED, Outcome.SKIPPED}
    assert not any(c[1] == "new" for c in calls(client) if c[0] != "create_registered_model")


def test_the_lease_is_checked_before_every_write_and_a_lost_lease_stops_the_apply():
    clients, client = double()
    checks: list[int] = []
    Applier(clients, TARGET, 1, before_write=lambda: checks.append(1)).apply(CHANGES)
    assert len(checks) == len(CHANGES)

    def lost():
        if len(calls(client)) >= 2:
            raise LockLost("lease lost")

    clients, client = double()
    applier = Applier(clients, TARGET, 1, before_write=lost)
    results = applier.apply(CHANGES)
    assert len(calls(client)) == 2 and applier.lock_lost == "lease lost"  # nothing written after the loss
    assert [r.outcome for r in results].count(Outcome.APPLIED) == 2
    assert all(r.outcome is Outcome.SKIPPED and "not attempted" in (r.error or "") for r in results[2:])
    assert not any("lease lost" in (r.error or "") for r in results)  # said once, by the summary (hostile6 #11)


def test_an_audit_record_always_fits_the_smallest_tag_limit():
    """PostgreSQL stores a registered model's tag value in varchar(5000): however many changes,
    approvers or long strings, a record fits, and says what it left to the journal."""
    huge = [change("m", "tag", Action.CREATE, key=f"k{i}", after="é" * 5_000) for i in range(500)]
    audit = Audit("sha256:p", commit="c" * 10_000, approvers=tuple(f"lead-{i}" for i in range(2_000)), actor="x")
    record = entity_record(audit, "run123", huge, previous="run122")
    assert len(record) <= MAX_RECORD_CHARS
    data = json.loads(record)
    assert data["run"] == "run123" and data["previous"] == "run122" and data["plan"] == "sha256:p"
    assert data["more_changes"] == 500 - len(data.get("changes", []))


def test_servers_and_database_servers_take_parallel_writes_sqlite_does_not():
    def parallel(uri: str) -> bool:
        return Target(uri, uri, embedded=False).concurrent_writes

    assert parallel("https://mlflow.example.com") and parallel("postgresql://u@db/mlflow")
    assert parallel("mysql+pymysql://u@db/mlflow")
    assert not parallel("sqlite:///mlflow.db") and not parallel("./mlruns")


def test_a_scheme_in_upper_case_is_the_same_server():
    """`HTTP://host` was "a database, not a server" (permissions refused) though MLflow reads it as one."""
    for uri in ("HTTP://127.0.0.1:5000", "Https://mlflow.example.com", "POSTGRESQL://u@db/mlflow"):
        target = Target(uri, uri, embedded=False)
        assert target.concurrent_writes, uri
        assert target.is_http is (not uri.startswith("POSTGRESQL")), uri
    link = Target("HTTP://u:p@h:1", "HTTP://u:p@h:1", embedded=False).web_link("#/x")
    assert link == "http://h:1/#/x"


def test_messages_show_a_registry_uri_without_its_password():
    assert (
        mask("postgresql+psycopg://mlflow:s3cr%40t@db:5432/mlflow") == "postgresql+psycopg://mlflow:***@db:5432/mlflow"
    )
    assert mask("https://user:tok@mlflow.example.com/") == "https://user:***@mlflow.example.com/"
    assert mask("https://mlflow.example.com") == "https://mlflow.example.com"
    uri = "postgresql://u:pw@db/mlflow"
    assert Target(uri, uri, embedded=False).describe() == "postgresql://u:***@db/mlflow"
    assert Target(uri, uri, embedded=False).identity == "postgresql://db/mlflow"


def test_a_token_as_user_and_a_password_in_the_query_are_masked_too():
    """Found by a hostile review: both were printed, and the pull-request check put them in a commit status."""
    assert mask("https://tok3n@mlflow.example.com") == "https://***@mlflow.example.com"
    assert (
        mask("postgresql://db/mlflow?sslmode=require&password=s3cret&sslpassword=k")
        == "postgresql://db/mlflow?sslmode=require&password=***&sslpassword=***"
    )
    uri = "postgresql://u@db:5432/mlflow?password=s3cret"
    assert "s3cret" not in Target(uri, uri, embedded=False).describe()
    assert Target(uri, uri, embedded=False).identity == "postgresql://db:5432/mlflow"
