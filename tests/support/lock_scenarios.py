"""Registry-lock scenarios with real contender processes, run against each kind of registry
(tests/lock/test_lock_sqlite.py, tests/integration/test_lock_server.py).

Times come from reconciler.apply.lock.now(), one clock for every process on this machine.
"""

from __future__ import annotations

import itertools
import signal
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.apply.lock import now
from reconciler.apply.tickets import MODEL_DESCRIPTION, Tickets
from tests.support.lock_contender import Contender

TTL, MARGIN = 6.0, 1.5  # short, so a test waits for expiry in seconds; heartbeats every 1.5 s
MIN_TTL = 1.0  # the floor tickets are judged by, scaled down with TTL (lock.MIN_TTL is 30 s: tests/unit/test_lock.py)
SLACK = 5.0  # for upper bounds only (the lower bounds are exact): a shared, loaded 2-core machine


@dataclass
class Registry:
    """One registry as the contenders reach it, plus an in-process client for setup and checks."""

    uri: str
    env: dict[str, str]
    client: Any
    model: str
    extra: dict[str, Any] = field(default_factory=dict)
    share: Callable[[str], None] = lambda model: None  # lets the contenders write to a model made here
    spawned: list[Contender] = field(default_factory=list)

    def cfg(self, mode: str, actor: str, **kw: Any) -> dict:
        return {
            "mode": mode,
            "actor": actor,
            "uri": self.uri,
            "model": self.model,
            "ttl": TTL,
            "margin": MARGIN,
            "min_ttl": MIN_TTL,
            **kw,
        }

    def spawn(self, mode: str, actor: str, env: dict[str, str] | None = None, **kw: Any) -> Contender:
        self.spawned.append(Contender(self.cfg(mode, actor, **kw), env or self.env))
        return self.spawned[-1]

    def close(self) -> None:
        for c in self.spawned:
            c.kill()

    def live(self) -> list[int]:
        return sorted(t.number for t in Tickets(self.client, self.model).live())

    def versions(self) -> list[int]:
        """Every ticket not deleted (released ones are deleted when the user may, else tagged)."""
        return sorted(int(v.version) for v in self.client.search_model_versions(f"name = '{self.model}'"))


def mutual_exclusion(reg: Registry, tmp: Path, procs: int, rounds: int, uris: list[str] | None = None) -> None:
    """`procs` processes start at once against a registry without the lock model (so they race
    to create it) and take the lock `rounds` times each; each time they read-modify-write a
    counter. No two holds overlap, no increment is lost, everyone gets its turns."""
    counter = f"lock-counter-{uuid.uuid4().hex[:8]}"
    reg.client.create_registered_model(counter)
    reg.share(counter)
    go = tmp / f"go-{counter}"
    uris = uris or [reg.uri]
    cs = [
        reg.spawn(
            "cycle", f"c{i}", rounds=rounds, timeout=120, counter=counter, go_file=str(go), uri=uris[i % len(uris)]
        )
        for i in range(procs)
    ]
    for c in cs:
        c.expect("ready", 120)
    go.touch()
    for c in cs:
        assert c.finish(240) == 0, c.tail()
        assert len(c.of("held")) == rounds, c.log
    held = sorted((e for c in cs for e in c.of("held")), key=lambda e: e["start"])
    for a, b in itertools.pairwise(held):
        assert b["start"] > a["end"], f"holds overlap: {a} and {b}"
    tickets = [e["ticket"] for e in held]
    assert tickets == sorted(set(tickets)) and len(tickets) == procs * rounds  # first come, first served
    assert reg.client.get_registered_model(counter).tags["n"] == str(procs * rounds)
    creators = [c for c in cs if any(e["created_model"] for e in c.of("acquired"))]
    assert len(creators) == 1, [c.of("acquired") for c in cs]
    found = reg.client.search_registered_models(f"name = '{reg.model}'")
    assert [m.name for m in found] == [reg.model]
    assert found[0].description == MODEL_DESCRIPTION
    assert reg.live() == []


def held_lock(reg: Registry) -> None:
    """While one process holds the lock: a short timeout fails naming the holder, timeout 0
    refuses at once, a patient waiter is told whom it waits for; then the holder is SIGKILLed
    and the waiter gets the lock once the holder's lease ran out, and not before."""
    h = reg.spawn("hold", "holder-ci", pull_request="17", commit="c0ffee1", plan="sha256:9f2")
    h.expect("acquired", 120)
    t = reg.spawn("try", "impatient", timeout=1.5)
    z = reg.spawn("try", "refuser", timeout=0)
    w = reg.spawn("try", "waiter", timeout=60)
    waiting = w.expect("waiting", 120)
    holder = "holder-ci (pull request 17, commit c0ffee1, host "
    assert f"waiting for the registry lock held by {holder}" in waiting["message"], waiting
    for c, limit, says in ((t, 1.5, "gave up after waiting 1.5 s"), (z, 0.0, "not waiting (lock timeout 0)")):
        e = c.expect("timeout", 120)
        assert c.finish() == 0, c.tail()
        assert limit <= e["elapsed"] < limit + SLACK, e
        assert "\n" not in e["message"] and says in e["message"], e["message"]
        assert f"is held by {holder}" in e["message"], e["message"]
        assert "last heartbeat 20" in e["message"] and "--lock-timeout" in e["message"], e["message"]
    assert z.of("timeout")[0]["calls"] == 3  # refused at once: take a ticket, look once, give it back
    h.signal(signal.SIGKILL)
    killed = now()
    h.finish()
    last_beat = max(e["start"] for e in h.of("heartbeat"))
    got = w.expect("acquired", TTL + 30)
    assert got["t"] - last_beat >= TTL, (got, last_beat)  # never while the lease could be alive
    # its last heartbeat started at most one interval (plus the call) before the kill
    assert TTL - TTL / 4 - 2.0 <= got["t"] - killed <= TTL + SLACK, (got["t"] - killed, got)
    assert w.finish() == 0, w.tail()
    assert reg.live() == []


def different_ttls(reg: Registry) -> None:
    """Appliers with different ttls: each ticket is judged by the ttl its holder recorded. A waiter
    with a short ttl does not take the lock from a live holder with a long one (whose heartbeats
    are farther apart than the waiter's ttl), and takes it from a dead one only once the holder's
    own ttl has run out; a waiter with a long ttl takes it from a dead short-ttl holder after the
    holder's ttl, not its own."""
    long_ttl, long_margin = 7 * TTL, 7 * MARGIN  # heartbeats every 10.5 s: far apart for the waiter's ttl
    # Held for 2 TTL: a waiter judging by its own ttl would take it at 1 TTL, before the first heartbeat.
    h = reg.spawn("hold", "patient-holder", ttl=long_ttl, margin=long_margin, hold_for=2 * TTL)
    h.expect("acquired", 120)
    w = reg.spawn("try", "hasty-waiter", timeout=60)
    w.expect("waiting", 120)
    released = h.expect("released", 60)
    got = w.expect("acquired", 60)
    assert got["t"] > released["t"], (got, released, h.log)  # it waited for the release: no overlap
    assert h.finish() == 0 and w.finish() == 0, (h.tail(), w.tail())

    for holder_ttl, holder_margin, waiter_ttl, waiter_margin in (
        (1.5 * TTL, 1.5 * MARGIN, TTL, MARGIN),  # judged by its own ttl, the waiter would take it 3 s early
        (TTL, MARGIN, 4 * TTL, 4 * MARGIN),
    ):
        h = reg.spawn("hold", "dies", ttl=holder_ttl, margin=holder_margin)
        h.expect("acquired", 120)
        w = reg.spawn("try", "survivor", ttl=waiter_ttl, margin=waiter_margin, timeout=120)
        w.expect("waiting", 120)
        h.signal(signal.SIGKILL)
        h.finish()
        last_beat = max(e["start"] for e in h.of("heartbeat"))
        got = w.expect("acquired", holder_ttl + 60)
        waited = got["t"] - last_beat
        assert holder_ttl <= waited < holder_ttl + SLACK, (holder_ttl, waiter_ttl, waited)
        assert w.finish() == 0, w.tail()
    assert reg.live() == []


def stopped(reg: Registry) -> None:
    """Two appliers at once, and the holder SIGSTOPped past its ttl (a machine so loaded that the
    holder is not scheduled, a suspended VM): the waiter takes the lock once the holder's ttl ran
    out without a heartbeat, not before; the holder, continued, finds its lease lost before its
    next write, and never writes again. The last write is the new holder's."""
    counter = f"lock-stopped-{uuid.uuid4().hex[:8]}"
    reg.client.create_registered_model(counter)
    reg.share(counter)
    h = reg.spawn("write", "stopped", counter=counter, write_every=TTL, hold_for=120)
    h.expect("acquired", 120)
    h.expect("wrote", 30)
    h.expect("wrote", 30)  # just after a heartbeat: the holder is idle now, in no registry call
    w = reg.spawn("write", "successor", counter=counter, hold_for=TTL / 2, timeout=120)
    w.expect("waiting", 120)
    h.signal(signal.SIGSTOP)
    paused = now()
    try:
        got = w.expect("acquired", TTL + 30)
        last_beat = max(e["start"] for e in h.of("heartbeat"))
        assert got["t"] - last_beat >= TTL, (got, last_beat)  # never while the lease could be alive
        assert got["t"] - paused < TTL + SLACK, (got["t"] - paused, got)
        w.expect("wrote", 30)
    finally:
        h.signal(signal.SIGCONT)
    resumed = now()
    lost = h.expect("lost", 30)
    assert "\n" not in lost["message"] and "lost the registry lock" in lost["message"], lost
    assert h.finish() == 0 and w.finish() == 0, (h.tail(), w.tail())
    late = [e for e in h.of("wrote") if e["start"] > paused]
    assert late == [], (late, resumed)  # not one write from the stopped holder after it was stopped
    assert max(e["end"] for e in h.of("wrote")) < got["t"] < min(e["start"] for e in w.of("wrote"))
    assert reg.client.get_registered_model(counter).tags["holder"] == "successor"
    assert reg.live() == []


def terminated(reg: Registry) -> None:
    """A holder stopped by SIGTERM, and one interrupted by Ctrl-C, release at once."""
    h = reg.spawn("hold", "terminated")
    h.expect("acquired", 120)
    w = reg.spawn("try", "interrupted", timeout=60, hold=60)
    w.expect("waiting", 120)
    h.signal(signal.SIGTERM)
    stopped = now()
    assert h.finish() == 128 + signal.SIGTERM, h.tail()
    got = w.expect("acquired", 30)
    assert got["t"] - stopped < TTL - MARGIN, got  # released, not expired
    w.signal(signal.SIGINT)
    assert w.finish() == 130, w.tail()
    assert w.of("interrupted")
    assert (reg.live(), reg.versions()) == ([], []), (h.log, w.log)


def lost_when_unreachable(
    reg: Registry,
    tmp: Path,
    block: Callable[[], None],
    unblock: Callable[[], None],
    holder_uri: str | None = None,
    takeover: bool = False,
) -> None:
    """The holder's heartbeats stop reaching the registry (`block`): it is told LockLost once its
    lease lapsed (ttl - margin after the last heartbeat that got through), before any waiter may
    take over; with `takeover`, a waiter that still reaches the registry does so after the ttl.
    When the registry is back, the late heartbeat does not revive the lease."""
    stop = tmp / f"stop-{uuid.uuid4().hex[:8]}"
    h = reg.spawn("hold", "partitioned", uri=holder_uri or reg.uri, stop_file=str(stop), hold_for=90)
    taken = h.expect("acquired", 120)["t"]
    while h.expect("heartbeat", 30)["start"] <= taken:  # heartbeats get through before the cut
        pass
    w = reg.spawn("try", "survivor", timeout=60) if takeover else None
    if w:
        w.expect("waiting", 120)
    block()
    try:
        lost = h.expect("lost", TTL + 30)
        lapsed = lost["t"] - lost["last_heartbeat"]
        assert TTL - MARGIN <= lapsed < TTL, lost  # told before any waiter may take over
        assert "no heartbeat reached the registry for" in lost["message"] and "\n" not in lost["message"]
        if w:
            got = w.expect("acquired", TTL + 30)
            assert got["t"] - lost["last_heartbeat"] >= TTL and got["t"] > lost["t"], (got, lost)
    finally:
        unblock()
    time.sleep(TTL / 4)  # a delayed heartbeat lands now (the frozen request is answered at once)
    stop.touch()
    h.expect("released", 60)
    assert h.finish() == 0, h.tail()
    assert not h.of("resurrected"), h.log
    if w:
        assert w.finish() == 0, w.tail()
    assert reg.live() == []


def hostile_owner(reg: Registry) -> None:
    """Owner fields with newlines, escape sequences, quotes and 6,000 characters are stored
    bounded (PostgreSQL's description column is varchar(5000)) and shown on one line."""
    import pytest

    from reconciler.apply.lock import LockSettings, LockTimeout, Owner, RegistryLock, default_owner

    evil = Owner(
        actor="mallory\nerror: forged line\x1b[31m" + "é" * 6000,
        plan="sha256:" + "f" * 6000,
        pull_request="17'; DROP TABLE model_versions; --",
        commit="c0ffee1\r\n",
        host="h" * 300,
        pid="1",
        started_at="\x00",
        id=uuid.uuid4().hex,
    )
    settings = LockSettings(ttl=60, margin=20)  # no heartbeat during the test
    with RegistryLock(reg.client, evil, settings, "the registry", reg.model).acquire(10) as lease:
        v = reg.client.get_model_version(reg.model, str(lease.number))
        assert max(len(value) for value in v.tags.values()) <= 200, v.tags
        assert len(v.description) < 1000 and "\n" not in v.description
        other = RegistryLock(reg.client, default_owner("bob"), settings, "the registry", reg.model)
        with pytest.raises(LockTimeout) as refused:
            other.acquire(0)
    message = str(refused.value)
    assert "held by mallory?error: forged line?[31mééé" in message, message
    assert "pull request 17'; DROP TABLE model_versions; --, commit c0ffee1??, host hhh" in message, message
    assert "\n" not in message and "\r" not in message and "\x1b" not in message and len(message) < 1200
    assert reg.live() == []
