"""Pure parts of the registry lock: settings, owner records, expiry judgement."""

from __future__ import annotations

import math
import time

import pytest

from reconciler.apply.lock import MAX_TTL, MIN_TTL, LockSettings, _Watch, judged_ttl
from reconciler.apply.tickets import LIVE, MAX_VALUE, TAG, Owner, Ticket


def ticket(number: int, updated_ms: int, description: str = "heartbeat 1", ttl: float | None = 60.0) -> Ticket:
    return Ticket(number, Owner("ci"), LIVE, description, 1_800_000_000_000, updated_ms, ttl)


def test_settings_derive_lease_and_heartbeat():
    s = LockSettings()
    assert (s.ttl, s.lapse, s.beat_every) == (60.0, 40.0, 15.0)
    for bad in ({"ttl": 0}, {"ttl": 10, "margin": 0}, {"ttl": 10, "margin": 5.1}, {"poll": 6, "max_poll": 5}):
        with pytest.raises(ValueError):
            LockSettings(**bad)


def test_owner_round_trips_through_tags_and_is_cleaned():
    owner = Owner("ci\nforged", "sha256:ab", "17", None, "runner-3", "4242", "2026-11-22T07:10:03Z", "id1")
    tags = owner.tags()
    assert TAG + "commit" not in tags and tags[TAG + "actor"] == "ci?forged"
    back = Owner.from_tags(tags)
    assert back.label() == "ci?forged (pull request 17, host runner-3, pid 4242)"
    assert Owner.from_tags({}).label() == "? (host ?, pid ?)"
    long = Owner("x" * 1000).tags()[TAG + "actor"]
    assert len(long) == MAX_VALUE and long.endswith("…")


def test_a_ticket_expires_only_after_a_whole_ttl_of_its_own_without_a_new_heartbeat():
    w = _Watch()
    assert not w.lapsed(ticket(1, 100, ttl=40), asked=10.0, answered=10.1)  # first sight: starts the clock
    assert not w.lapsed(ticket(1, 100, ttl=40), asked=50.0, answered=50.1)  # 39.9 s since it was seen
    assert not w.lapsed(ticket(1, 200, ttl=40), asked=50.2, answered=50.3)  # a heartbeat: the clock restarts
    assert not w.lapsed(ticket(1, 200, ttl=40), asked=90.2, answered=90.3)
    assert w.lapsed(ticket(1, 200, ttl=40), asked=90.3, answered=90.4)  # 40 s with the same heartbeat
    # a heartbeat that kept the timestamp (same millisecond) still counts: the description changed
    assert not w.lapsed(ticket(1, 200, "heartbeat 2", ttl=40), asked=100.0, answered=100.1)
    # a holder with a long ttl heartbeats rarely: it is alive until its own ttl ran out
    assert not w.lapsed(ticket(2, 100, ttl=600), asked=10.0, answered=10.1)
    assert not w.lapsed(ticket(2, 100, ttl=600), asked=609.0, answered=609.1)
    assert w.lapsed(ticket(2, 100, ttl=600), asked=610.1, answered=610.2)
    # a ticket claiming less than the floor is judged by the floor: its holder may be slow, not dead
    assert not w.lapsed(ticket(3, 100, ttl=6), asked=10.0, answered=10.1)
    assert not w.lapsed(ticket(3, 100, ttl=6), asked=10.1 + MIN_TTL - 0.1, answered=40.1)
    assert w.lapsed(ticket(3, 100, ttl=6), asked=10.1 + MIN_TTL, answered=40.2)


@pytest.mark.parametrize(
    ("claimed", "judged"),
    [(60.0, 60.0), (600.0, 600.0), (0.001, MIN_TTL), (1e9, MAX_TTL), (None, MAX_TTL)],
)
def test_what_a_ticket_may_claim_is_bounded(claimed, judged):
    """A ticket claiming an absurd ttl blocks the queue for at most MAX_TTL; one without a readable
    claim (an older reconciler's, or edited by hand) is never judged shorter than its holder lives."""
    assert judged_ttl(ticket(1, 100, ttl=claimed)) == judged


@pytest.mark.parametrize("text", ["abc", "nan", "inf", "-5", "0", "", "1e400"])
def test_an_unreadable_ttl_tag_is_no_claim(text):
    from types import SimpleNamespace

    from reconciler.apply.tickets import TTL_TAG, _ticket

    mv = SimpleNamespace(
        version="3", tags={TTL_TAG: text}, description="", creation_timestamp=1, last_updated_timestamp=2
    )
    assert _ticket(mv).ttl is None
    assert _ticket(SimpleNamespace(**{**vars(mv), "tags": {TTL_TAG: "42.5"}})).ttl == 42.5


@pytest.mark.parametrize(
    "bad", [{"ttl": math.inf, "margin": 20}, {"ttl": math.nan, "margin": 20}, {"ttl": MAX_TTL + 1, "margin": 20}]
)
def test_settings_refuse_a_ttl_others_could_not_honour(bad):
    with pytest.raises(ValueError):
        LockSettings(**bad)


@pytest.mark.parametrize("value", ["0", "-5", "5", "10", "29.9", "abc", "nan", "inf", "-inf", "3601", "1e9", "0x10"])
def test_a_bad_lock_ttl_is_one_line_user_error(monkeypatch, value):
    from reconciler.apply.execute import lock_settings_from_env
    from reconciler.errors import ReconcilerError

    monkeypatch.setenv("RECONCILER_LOCK_TTL", value)
    with pytest.raises(ReconcilerError) as refused:
        lock_settings_from_env()
    assert str(refused.value) == (
        f"RECONCILER_LOCK_TTL={value!r} is not a number of seconds from 30 to 3600; "
        "set one in that range, or unset it for the default of 60"
    )


@pytest.mark.parametrize(("value", "ttl"), [(None, 60.0), ("", 60.0), ("30", 30.0), (" 600 ", 600.0), ("3600", 3600.0)])
def test_a_good_lock_ttl_is_taken(monkeypatch, value, ttl):
    from reconciler.apply.execute import lock_settings_from_env

    if value is None:
        monkeypatch.delenv("RECONCILER_LOCK_TTL", raising=False)
    else:
        monkeypatch.setenv("RECONCILER_LOCK_TTL", value)
    s = lock_settings_from_env()
    assert (s.ttl, s.margin) == (ttl, ttl / 3)


def test_ticket_describes_its_holder_with_server_time():
    t = Ticket(7, Owner("ci", None, "17", "c0ffee1", "runner-3", "4242"), LIVE, "", 1_795_000_000_000, 0)
    assert t.describe() == "ci (pull request 17, commit c0ffee1, host runner-3, pid 4242) since 2026-11-18T11:06:40Z"


def test_transient_errors_are_retried_and_others_are_not():
    import requests
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import PERMISSION_DENIED, RESOURCE_DOES_NOT_EXIST, TEMPORARILY_UNAVAILABLE

    from reconciler.apply.tickets import Tickets, _transient

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


def test_a_lock_message_quoting_a_uri_is_masked_before_it_is_cut():
    """A heartbeat or release error is cut to 300 characters: masking first, so a cut that falls
    inside the password (before the `@` that marks it) cannot leave its start in the message."""
    from reconciler.apply.lock import _first_line

    secret = "S3cretPassw0rdThatIsLong"
    for pad in range(260, 300):
        text = _first_line(RuntimeError("x" * pad + f" http://admin:{secret}@registry.example/api\nmore"))
        assert secret[:4] not in text, (pad, text)
        assert len(text) <= 300


def _holder(host: str, pid: str) -> Ticket:
    return Ticket(7, Owner(actor="ci", host=host, pid=pid), LIVE, "beat 3", 1, 2, ttl=3600.0)


def _dead_pid() -> str:
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # reaped: no process has its pid until the kernel reuses it
    return str(child.pid)


def test_a_holder_killed_on_this_host_is_named_dead_with_how_to_clear_its_ticket():
    """A holder killed with RECONCILER_LOCK_TTL=3600 blocked applies for an hour without a word."""
    import socket

    from reconciler.apply.lock import waiting_message

    message = waiting_message(_holder(socket.gethostname(), _dead_pid()))
    assert "Its process is gone" in message and "lapses after its TTL of 3600 s" in message, message
    assert "To clear it now: reconciler unlock 7 (with this registry's MLFLOW_TRACKING_URI" in message, message


@pytest.mark.parametrize("timeout", [0.0, 10.0])
def test_giving_up_on_a_holder_killed_on_this_host_says_so_and_how_to_clear_it(timeout):
    """hostile6 #3: with --lock-timeout 0 the one line said to wait for an apply that is dead."""
    import socket

    from reconciler.apply.lock import timeout_message

    message = timeout_message("sqlite:///r.db", _holder(socket.gethostname(), _dead_pid()), timeout)
    assert "not waiting (lock timeout 0)" in message if timeout == 0 else "gave up after waiting 10 s" in message
    assert "Its process is gone" in message and "To clear it now: reconciler unlock 7 " in message, message
    assert "when that apply has finished" not in message and "\n" not in message, message


@pytest.mark.parametrize("where", ["other host", "live pid", "no pid"])
def test_a_holder_is_never_called_dead_unless_it_provably_is(where):
    import os
    import socket

    from reconciler.apply.lock import waiting_message

    host, pid = {
        "other host": ("runner-3", _dead_pid()),
        "live pid": (socket.gethostname(), str(os.getppid())),
        "no pid": (socket.gethostname(), "?"),
    }[where]
    assert "gone" not in waiting_message(_holder(host, pid))


def test_the_shortest_ttl_accepted_survives_a_loaded_machine(monkeypatch):
    """At the old floor of 5 s a holder lost its lease (or, stalled between its check and its
    write, wrote after another apply took over) when one heartbeat or one stall took 1.7 s. At the
    floor, heartbeats and stalls of just under 10 s each are survived (the margin is 10 s)."""
    from reconciler.apply.execute import lock_settings_from_env

    monkeypatch.setenv("RECONCILER_LOCK_TTL", f"{MIN_TTL:g}")
    s = lock_settings_from_env()
    assert s.ttl == MIN_TTL and s.margin >= 10.0
    # heartbeats every ttl/4 counted from each one's start: one that takes L is followed by the next
    # at max(ttl/4, L), which must come back before the lease lapses (ttl - margin after the last one)
    latency = 9.9
    assert max(s.beat_every, latency) + latency < s.lapse, s


class _SlowTickets:
    """Tickets whose heartbeat takes `latency` seconds, as on a loaded machine or a slow server."""

    model = "gitops.lock"

    def __init__(self, latency: float):
        self.latency, self.beats = latency, 0

    def beat(self, number: int, beat: int) -> tuple[Ticket, float]:
        from reconciler.apply.lock import now

        started = now()
        time.sleep(self.latency)
        self.beats += 1
        return ticket(number, 100 + beat, f"heartbeat {beat}"), started

    def retire(self, number: int, state: str) -> None:
        pass


def _lease(tickets: object, settings: LockSettings):
    from reconciler.apply.lock import Lease, now

    return Lease(tickets, ticket(1, 100), settings, "the test registry", now())  # type: ignore[arg-type]


def test_slow_heartbeats_do_not_drift_until_the_lease_lapses():
    """Each heartbeat was scheduled ttl/4 after the previous one ended: heartbeats taking 30 % of
    the ttl drifted apart (1.5 + 1.8 + 1.8 s > the lease's 4.5 s) and a live holder lost its lock
    at its second heartbeat. Scheduled from each one's start they hold (1.8 + 1.8 s < 4.5 s)."""
    from reconciler.apply.lock import LockLost

    slow = _SlowTickets(latency=1.8)
    with _lease(slow, LockSettings(ttl=6.0, margin=1.5, poll=0.1, max_poll=0.5)).start() as lease:
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline:
            try:
                lease.ensure()
            except LockLost as e:
                pytest.fail(f"lost after {slow.beats} heartbeats: {e}")
            time.sleep(0.05)
    assert slow.beats >= 4


def test_sigterm_chains_to_the_handler_installed_before_and_restores_it():
    """The lease's SIGTERM handler replaced the CLI's (reconciler/interrupt.py) without calling it:
    an apply stopped by SIGTERM skipped what the CLI does on a signal (stop every worker's writes,
    say what it leaves)."""
    import os
    import signal

    from reconciler.apply.lock import LockLost

    class Stopped(Exception):
        pass

    seen: list[int] = []

    def before(signum: int, frame: object) -> None:
        seen.append(signum)
        raise Stopped

    previous = signal.signal(signal.SIGTERM, before)
    try:
        lease = _lease(_SlowTickets(0.0), LockSettings(ttl=60.0, margin=20.0)).start()
        with pytest.raises(Stopped), lease:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler runs at once, in this (the main) thread
        assert seen == [signal.SIGTERM]
        with pytest.raises(LockLost, match="this process received SIGTERM"):
            lease.ensure()
        assert signal.getsignal(signal.SIGTERM) is before  # restored on release

        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a process that ignores SIGTERM: its lease does too
        with _lease(_SlowTickets(0.0), LockSettings(ttl=60.0, margin=20.0)).start() as ignoring:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.2)
            ignoring.ensure()
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGTERM, previous)
