"""Pure parts of the registry lock: settings, owner records, expiry judgement."""

from __future__ import annotations

import pytest

from reconciler.lock import LOCK_MODEL, LockSettings, _Watch, is_reserved
from reconciler.lock_tickets import LIVE, MAX_VALUE, TAG, Owner, Ticket


def ticket(number: int, updated_ms: int, description: str = "heartbeat 1") -> Ticket:
    return Ticket(number, Owner("ci"), LIVE, description, 1_800_000_000_000, updated_ms)


def test_settings_derive_lease_and_heartbeat():
    s = LockSettings()
    assert (s.ttl, s.lapse, s.beat_every) == (60.0, 40.0, 15.0)
    for bad in ({"ttl": 0}, {"ttl": 10, "margin": 0}, {"ttl": 10, "margin": 5.1}, {"poll": 6, "max_poll": 5}):
        with pytest.raises(ValueError):
            LockSettings(**bad)


def test_only_the_lock_model_is_reserved():
    assert is_reserved(LOCK_MODEL) and LOCK_MODEL == "gitops.lock"
    assert not is_reserved("gitops.lock2") and not is_reserved("iris")


def test_owner_round_trips_through_tags_and_is_cleaned():
    owner = Owner("ci\nforged", "sha256:ab", "17", None, "runner-3", "4242", "2026-11-22T07:10:03Z", "id1")
    tags = owner.tags()
    assert TAG + "commit" not in tags and tags[TAG + "actor"] == "ci?forged"
    back = Owner.from_tags(tags)
    assert back.label() == "ci?forged (pull request 17, host runner-3, pid 4242)"
    assert Owner.from_tags({}).label() == "? (host ?, pid ?)"
    long = Owner("x" * 1000).tags()[TAG + "actor"]
    assert len(long) == MAX_VALUE and long.endswith("…")


def test_a_ticket_expires_only_after_a_whole_ttl_without_a_new_heartbeat():
    w = _Watch(ttl=4)
    assert not w.lapsed(ticket(1, 100), asked=10.0, answered=10.1)  # first sight: starts the clock
    assert not w.lapsed(ticket(1, 100), asked=14.0, answered=14.1)  # 3.9 s since it was seen
    assert not w.lapsed(ticket(1, 200), asked=14.2, answered=14.3)  # a heartbeat: the clock restarts
    assert not w.lapsed(ticket(1, 200), asked=18.2, answered=18.3)
    assert w.lapsed(ticket(1, 200), asked=18.3, answered=18.4)  # 4 s with the same heartbeat
    # a heartbeat that kept the timestamp (same millisecond) still counts: the description changed
    assert not w.lapsed(ticket(1, 200, "heartbeat 2"), asked=30.0, answered=30.1)


def test_ticket_describes_its_holder_with_server_time():
    t = Ticket(7, Owner("ci", None, "17", "c0ffee1", "runner-3", "4242"), LIVE, "", 1_795_000_000_000, 0)
    assert t.describe() == "ci (pull request 17, commit c0ffee1, host runner-3, pid 4242) since 2026-11-18T11:06:40Z"


def test_transient_errors_are_retried_and_others_are_not():
    import requests
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import PERMISSION_DENIED, RESOURCE_DOES_NOT_EXIST, TEMPORARILY_UNAVAILABLE

    from reconciler.lock_tickets import Tickets, _transient

    assert _transient(requests.exceptions.ConnectionError("refused"))
    assert _transient(MlflowException("(sqlite3.OperationalError) database is locked", TEMPORARILY_UNAVAILABLE))
    assert _transient(MlflowException("Model Version creation error (name=gitops.lock). Giving up after 3 attempts."))
    assert _transient(MlflowException("Service Unavailable", TEMPORARILY_UNAVAILABLE))
    assert not _transient(MlflowException("Permission denied", PERMISSION_DENIED))
    assert not _transient(MlflowException("not found", RESOURCE_DOES_NOT_EXIST))
    assert not _transient(ValueError("bug"))

    failures = [MlflowException("database is locked", TEMPORARILY_UNAVAILABLE)] * 2
    tickets = Tickets(None, "m")

    def flaky() -> str:
        if failures:
            raise failures.pop()
        return "done"

    assert tickets._call(flaky) == "done" and tickets.calls == 3

    def denied() -> None:
        raise MlflowException("Permission denied", PERMISSION_DENIED)

    with pytest.raises(MlflowException):
        tickets._call(denied)
    assert tickets.calls == 4  # not retried
