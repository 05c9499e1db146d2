"""The registry lock in one process against a local SQLite registry: calls per operation,
hostile owner strings, misuse."""

from __future__ import annotations

import pytest

from reconciler.apply.lock import LockLost, LockSettings, LockTimeout, RegistryLock, default_owner, waiting_message
from reconciler.apply.tickets import RELEASED, STATE_TAG
from tests.support import lock_scenarios as scenarios

QUIET = LockSettings(ttl=60, margin=20)  # no heartbeat while a test runs: the call counts are exact


def lock(registry: scenarios.Registry, actor: str) -> RegistryLock:
    return RegistryLock(registry.client, default_owner(actor, "sha256:9f2", "17", "c0ffee1"), QUIET, "test")


def test_calls_per_acquire_and_release(registry):
    first = lock(registry, "first")
    lease = first.acquire(5)
    # refused ticket (no lock model yet), create the model, ticket, one look at the queue
    assert (first.calls, first.created_model) == (4, True)
    before = first.calls
    lease.release()
    assert first.calls - before == 1  # delete the ticket
    second = lock(registry, "second")
    with second.acquire(5):
        assert (second.calls, second.created_model) == (2, False)  # ticket, one look
        refused = lock(registry, "third")
        with pytest.raises(LockTimeout, match=r"held by second \(pull request 17, commit c0ffee1, host "):
            refused.acquire(0)
        assert refused.calls == 3  # ticket, one look, give it back
    assert registry.live() == [] and registry.versions() == []


def test_a_waiter_is_told_who_holds_the_lock(registry):
    holder, waiter = lock(registry, "holder"), lock(registry, "waiter")
    seen: list[str] = []
    with holder.acquire(5), pytest.raises(LockTimeout, match=r"gave up after waiting 0\.3 s"):
        waiter.acquire(0.3, on_wait=lambda t: seen.append(waiting_message(t)))
    assert len(seen) == 1
    assert seen[0].startswith("waiting for the registry lock held by holder (pull request 17, commit c0ffee1, host ")
    assert " since 20" in seen[0] and seen[0].endswith("Z…")


def test_a_released_lease_refuses_further_writes(registry):
    lease = lock(registry, "done").acquire(5)
    lease.ensure()
    lease.release()
    lease.release()  # idempotent
    with pytest.raises(LockLost, match="this apply already released it"):
        lease.ensure()
    assert lease.release_warning is None


def test_a_ticket_marked_released_by_hand_is_not_live(registry):
    """What an EDIT-only user leaves behind (it may not delete versions) blocks nobody."""
    with lock(registry, "editor").acquire(5) as lease:
        registry.client.set_model_version_tag(registry.model, str(lease.number), STATE_TAG, RELEASED)
        assert registry.live() == []
        with lock(registry, "next").acquire(0):
            pass


def test_hostile_owner_strings_are_bounded_and_on_one_line(registry):
    scenarios.hostile_owner(registry)


def test_bad_arguments(registry):
    with pytest.raises(ValueError, match="timeout"):
        lock(registry, "x").acquire(-1)
    with pytest.raises(ValueError, match="margin"):
        LockSettings(ttl=10, margin=6)
    with pytest.raises(ValueError, match="quoted"):
        RegistryLock(registry.client, default_owner("x"), QUIET, model="it's")
    assert registry.versions() == []


def test_a_heartbeat_is_what_moves_last_updated_timestamp(registry):
    """update_model_version refreshes a version's last_updated_timestamp; setting a tag does not
    (MLflow's store), which is why a heartbeat rewrites the description."""
    import time

    from reconciler.apply.tickets import Tickets

    with lock(registry, "beating").acquire(5) as lease:
        tickets = Tickets(registry.client, registry.model)
        before = registry.client.get_model_version(registry.model, str(lease.number))
        time.sleep(0.01)
        registry.client.set_model_version_tag(registry.model, str(lease.number), "gitops.lock.note", "x")
        tagged = registry.client.get_model_version(registry.model, str(lease.number))
        assert tagged.last_updated_timestamp == before.last_updated_timestamp
        beaten, _ = tickets.beat(lease.number, 7)
        assert beaten.updated_ms > before.last_updated_timestamp and beaten.beat != (before.last_updated_timestamp, "")
        assert "heartbeat 7" in beaten.description


def test_the_ticket_records_its_holders_ttl_and_the_timeout_names_it(registry):
    """Others judge a ticket by its holder's ttl, so the ticket must say it; a waiter's timeout
    message gives the holder's, not the waiter's."""
    holder = RegistryLock(registry.client, default_owner("slow"), LockSettings(ttl=600, margin=200), "test")
    with holder.acquire(5) as lease:
        tags = registry.client.get_model_version(registry.model, str(lease.number)).tags
        assert tags["gitops.lock.ttl"] == "600.0"
        waiter = RegistryLock(registry.client, default_owner("hasty"), LockSettings(ttl=8, margin=2), "test")
        with pytest.raises(LockTimeout, match=r"a holder that died loses the lock 600 s after its last heartbeat"):
            waiter.acquire(0.2)
