"""The registry lock: two applies against one registry never interleave.

The lock lives in the registry itself, so every applier sees it whatever it reaches the
registry through (an HTTP server, a `postgresql://` URI, a `sqlite:///` file). MLflow's only
atomic primitives are unique creations, so the lock is a reserved registered model,
`gitops.lock`, and each applier that wants it registers a model version of it: a ticket. MLflow
numbers versions atomically (unique (name, version) key, never reused), so the ticket number is
the applier's place in the queue; the live ticket with the lowest number holds the lock.

Liveness is a lease. Every ticket's owner heartbeats it (`update_model_version`, which changes
the ticket's description and `last_updated_timestamp`) every ttl/4, counted from the start of the
last heartbeat that reached the registry (not from its end: slow heartbeats on a loaded machine
would otherwise drift apart until the lease lapsed), and the ticket records that
ttl (tag `gitops.lock.ttl`): a ticket is judged by the ttl its holder lives by, never by the
waiter's own, so appliers with different `RECONCILER_LOCK_TTL` queue correctly. What a ticket may
claim is bounded (`judged_ttl`: MIN_TTL to MAX_TTL; a ticket without a readable claim is judged
by MAX_TTL), so no ticket blocks the queue for longer than MAX_TTL after its heartbeats stop.

A waiter declares a ticket dead when it has seen the same heartbeat for that whole ttl, measured
on its own monotonic clock: an elapsed time, not a reading of any clock. The registry has no one
clock to read: with a database URI MLflow stamps `last_updated_timestamp` with each runner's
clock, behind replicas with each replica's, so an age computed from those stamps is off by the
clocks' offset, and a clock stepped forward would make every live ticket look dead at once.
Dead tickets are ignored and retired (deleted, or tagged when deleting is not permitted).

Fencing is on the holder's side: `Lease.ensure()` raises `LockLost` once the last heartbeat
that reached the registry started more than ttl - margin ago, so a holder stops writing at
least `margin` seconds before any waiter can take over. `now()` counts the time a process is
stopped (SIGSTOP, a suspended VM), so a holder resumed past its lease finds it lost before its
next write.

The floor, MIN_TTL, is what survives a loaded machine. With the settings RECONCILER_LOCK_TTL
gives (margin ttl/3, heartbeats every ttl/4), a lease holds through heartbeats that each take up
to (not quite) ttl/3 and a holder stalled for up to ttl/3 between its check and its write: 10 s at the floor
of 30 s. At the old floor of 5 s, 1.7 s was enough to lose the lock (or, stalled after the check,
to write after another apply took over). Tickets claiming less are judged by the floor.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import FrameType
from typing import TYPE_CHECKING, Any

from reconciler.apply.tickets import EXPIRED, LIVE, RELEASED, Owner, Ticket, Tickets, iso, now
from reconciler.errors import LockError, LockLost, LockTimeout
from reconciler.masking import clip
from reconciler.names import LOCK_MODEL, RESERVED_MODELS

if TYPE_CHECKING:
    from mlflow import MlflowClient

MIN_TTL, MAX_TTL = 30.0, 3600.0  # seconds: what RECONCILER_LOCK_TTL accepts, and what a ticket may claim

__all__ = [
    "LOCK_MODEL",
    "MAX_TTL",
    "MIN_TTL",
    "RESERVED_MODELS",
    "Lease",
    "LockError",
    "LockLost",
    "LockSettings",
    "LockTimeout",
    "Owner",
    "RegistryLock",
    "Ticket",
    "default_owner",
    "judged_ttl",
    "now",
    "waiting_message",
]


@dataclass(frozen=True)
class LockSettings:
    """ttl: how long a ticket lives without a heartbeat; margin: how long before that its holder
    stops writing; poll/max_poll: the first and the longest wait between looks at the queue."""

    ttl: float = 60.0
    margin: float = 20.0
    poll: float = 0.5
    max_poll: float = 5.0

    def __post_init__(self) -> None:
        # ttl <= MAX_TTL: others judge a ticket by at most MAX_TTL, so a longer lease would outlive it
        if not (
            0 < self.ttl <= MAX_TTL and 0 < self.margin <= self.ttl / 2 and 0 < self.poll <= self.max_poll <= MAX_TTL
        ):
            raise ValueError(
                f"invalid lock settings {self}: need 0 < ttl <= {MAX_TTL:g}, 0 < margin <= ttl/2, 0 < poll <= max_poll"
            )

    @property
    def lapse(self) -> float:
        """A lease is good for this long after its last heartbeat started."""
        return self.ttl - self.margin

    @property
    def beat_every(self) -> float:
        return self.ttl / 4


def judged_ttl(t: Ticket) -> float:
    """How long `t` lives without a heartbeat, as every waiter judges it: the ttl its holder
    recorded, bounded to [MIN_TTL, MAX_TTL]; MAX_TTL when it records none that is readable (a
    ticket of an older reconciler, or one edited by hand): never shorter than its holder may live."""
    return MAX_TTL if t.ttl is None else min(max(t.ttl, MIN_TTL), MAX_TTL)


def waiting_message(holder: Ticket) -> str:
    """What the CLI prints when the holder it waits for changes; when the holder ran on this host
    and its process is gone, that too, and the safe way to clear its ticket now."""
    message = f"waiting for the registry lock held by {holder.describe()}…"
    if not holder_is_dead_here(holder):
        return message
    return f"{message} {_dead_clause(holder)}"


def _dead_clause(holder: Ticket) -> str:
    ttl = f" after its TTL of {holder.ttl:g} s" if holder.ttl is not None else " after its TTL"
    return (
        f"Its process is gone (host {holder.owner.host} is this host, and no process {holder.owner.pid} "
        f"runs here): it was killed, and its ticket lapses{ttl}. To clear it now: reconciler unlock {holder.number} "
        "(with this registry's MLFLOW_TRACKING_URI; it is recorded in the audit journal); then run the apply "
        "again: it finishes what the killed one left"
    )


def holder_is_dead_here(holder: Ticket) -> bool:
    """The ticket's holder ran on this host and no process has its pid: provably dead (a pid reused
    since counts as alive, so this never says so of a live holder on this host)."""
    if holder.owner.host != socket.gethostname() or not holder.owner.pid.isascii() or not holder.owner.pid.isdigit():
        return False
    pid = int(holder.owner.pid)
    if pid <= 0 or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # no such process; a pid no process can have
        return True
    except PermissionError:  # another user's process: alive
        return False
    return False


class Lease:
    """One applier's ticket: heartbeats from the moment it is taken, fences writes, releases.

    Use as a context manager (`with lock.acquire(...) as lease:`); call `ensure()` before every
    write. SIGTERM (in the main thread) and KeyboardInterrupt release the ticket on the way out.
    """

    def __init__(self, tickets: Tickets, ticket: Ticket, settings: LockSettings, where: str, taken_at: float):
        self.number = ticket.number
        self.owner = ticket.owner
        self._tickets, self._settings, self._where = tickets, settings, where
        self._last_ok = taken_at  # the call that created the ticket started then: the first heartbeat
        self._sent = 0  # heartbeats sent (the ticket's description counts them)
        self._lost: str | None = None
        self._advice = "Check that the registry is reachable"
        self._error: str | None = None
        self._released = False
        self._mu = threading.RLock()  # the SIGTERM handler may run while this thread holds it
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lock-heartbeat-{self.number}", daemon=True)
        self._previous_sigterm: Any = None
        self.release_warning: str | None = None
        self.held = False  # True once acquire() returned it: the lock is this apply's

    def start(self) -> Lease:
        self._catch_sigterm()
        self._thread.start()
        return self

    @property
    def last_heartbeat(self) -> float:
        """When (on `now()`'s clock) the last heartbeat that reached the registry started."""
        with self._mu:
            return self._last_ok

    def ensure(self) -> None:
        """Raise LockLost unless this lease is still good: call it before every write."""
        with self._mu:
            if self._lost is None:
                age = now() - self._last_ok
                if age > self._settings.lapse:
                    error = f" (last error: {self._error})" if self._error else ""
                    self._lose(f"no heartbeat reached the registry for {age:.1f} s{error}")
            if self._lost is not None:
                what = "the registry lock" if self.held else "its place in the queue for the registry lock"
                raise LockLost(
                    f"lost {what} on {self._where} (ticket {self.number} of '{self._tickets.model}'): "
                    f"{self._lost}; stopped before the next write so that no other apply interleaves with this one. "
                    f"{self._advice}, then run 'reconciler plan' and apply again: it converges"
                )

    def release(self) -> None:
        """Retire the ticket (idempotent). A failure is not raised: the ticket expires by itself;
        `release_warning` says so, for the CLI to print."""
        with self._mu:
            if self._released:
                return
            self._released = True
            if self._lost is None:
                self._lost = "this apply already released it"
            self._stop.set()
        try:
            self._tickets.retire(self.number, RELEASED)
        except Exception as e:  # the lease expires anyway; the caller shows the warning
            self.release_warning = (
                f"could not release the registry lock (ticket {self.number} of '{self._tickets.model}'): "
                f"{_first_line(e)}; it expires by itself {self._settings.ttl:g} s after its last heartbeat"
            )
        finally:
            self._restore_sigterm()

    def __enter__(self) -> Lease:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def _lose(self, reason: str, advice: str = "Check that the registry is reachable") -> None:  # with _mu held
        if self._lost is None:
            self._lost, self._advice = reason, advice
        self._stop.set()

    def _run(self) -> None:
        wait = self._due()
        while not self._stop.wait(wait):
            wait = self._due() if self._beat() else self._settings.beat_every / 2

    def _due(self) -> float:
        """Until the next heartbeat: beat_every after the last one that reached the registry
        started, however long it took (the first one: the ticket's creation)."""
        return max(0.0, self.last_heartbeat + self._settings.beat_every - now())

    def _beat(self) -> bool:
        try:
            self._sent += 1  # a new value each time, even after a heartbeat that may have landed
            ticket, started = self._tickets.beat(self.number, self._sent)
        except Exception as e:  # judged by ensure(): a lease survives a failed heartbeat until it lapses
            with self._mu:
                if Tickets.is_missing(e):
                    self._lose("its ticket was removed from the registry (another applier judged it expired)")
                self._error = _first_line(e)
            return False
        finished = now()
        with self._mu:
            if self._lost is not None:
                return False
            if ticket.state != LIVE and ticket.cleared_by is not None:
                self._lose(
                    f"{ticket.cleared_by!r} cleared its ticket with `reconciler unlock` (recorded in the audit "
                    "journal, `reconciler history`)",
                    f"Ask {ticket.cleared_by!r} why it was cleared",
                )
            elif ticket.state != LIVE:
                self._lose(f"another applier marked its ticket {ticket.state} (its heartbeats were too late)")
            elif finished - self._last_ok > self._settings.lapse:
                self._lose(f"a heartbeat took {finished - started:.1f} s and came back after the lease had lapsed")
            else:
                self._last_ok, self._error = started, None
            return self._lost is None

    def _catch_sigterm(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return

        def on_sigterm(signum: int, frame: FrameType | None) -> None:
            previous = self._previous_sigterm
            if previous == signal.SIG_IGN:  # the process ignores SIGTERM: so does its lease
                return
            with self._mu:
                released = self._released
                if not released:
                    self._lose("this process received SIGTERM")
            if released:  # released from another thread, which could not restore the handler
                self._restore_sigterm()
                os.kill(os.getpid(), signum)
                return
            if callable(previous):  # the handler installed before (the CLI's, an embedding program's) decides
                previous(signum, frame)
                return
            raise SystemExit(128 + signum)

        self._previous_sigterm = signal.signal(signal.SIGTERM, on_sigterm)

    def _restore_sigterm(self) -> None:
        if self._previous_sigterm is not None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self._previous_sigterm)
            self._previous_sigterm = None


@dataclass
class _Watch:
    """What a waiter saw of other tickets: each one's heartbeat and when it first saw it."""

    seen: dict[int, tuple[tuple[int, str], float]] = field(default_factory=dict)

    def lapsed(self, t: Ticket, asked: float, answered: float) -> bool:
        """Whether `t` showed the same heartbeat for the whole of its own ttl (`judged_ttl`). The
        heartbeat was written before the answer arrived (`answered`) and was still the same when
        we asked (`asked`): both bounds err on the side of a live holder."""
        previous = self.seen.get(t.number)
        if previous is None or previous[0] != t.beat:
            self.seen[t.number] = (t.beat, answered)
            return False
        return asked - previous[1] >= judged_ttl(t)


class RegistryLock:
    """`acquire()` takes a ticket, waits its turn (bounded) and returns the held Lease."""

    def __init__(
        self,
        mlflow_client: MlflowClient,
        owner: Owner,
        settings: LockSettings | None = None,
        where: str = "the registry",
        model: str = LOCK_MODEL,
    ):
        """`where`: the registry as messages name it (Target.describe()); `model`: tests use
        their own lock model."""
        self.owner = owner
        self.settings = settings or LockSettings()
        self.where = where
        self._tickets = Tickets(mlflow_client, model, where)

    @property
    def created_model(self) -> bool:
        """Whether this process created the lock model (first use of the registry)."""
        return self._tickets.created_model

    @property
    def calls(self) -> int:
        """Registry calls made so far (retries included)."""
        return self._tickets.calls

    def acquire(self, timeout: float, on_wait: Callable[[Ticket], None] = lambda t: None) -> Lease:
        """Wait at most `timeout` seconds (0: refuse at once if the lock is held). `on_wait` is
        called with the holder whenever the holder this apply waits for changes."""
        if timeout < 0:
            raise ValueError("timeout must be >= 0")
        asked = now()
        ticket, taken_at = self._tickets.take(self.owner, self.settings.ttl)
        lease = Lease(self._tickets, ticket, self.settings, self.where, taken_at).start()
        try:
            self._wait_turn(lease, asked + timeout, timeout, on_wait)
        except BaseException:  # timeout, lost lease, Ctrl-C, SIGTERM: give the place up
            lease.release()
            raise
        lease.held = True
        return lease

    def _wait_turn(self, lease: Lease, deadline: float, timeout: float, on_wait: Callable[[Ticket], None]) -> None:
        watch = _Watch()
        shown: int | None = None
        delays = _backoff(self.settings)
        while True:
            lease.ensure()
            ahead = self._ahead(lease, watch)
            if ahead == []:
                return
            if ahead and ahead[0].number != shown:
                shown = ahead[0].number
                on_wait(ahead[0])
                delays = _backoff(self.settings)  # the queue moved: look again soon
            if now() >= deadline:
                raise LockTimeout(self._timeout_message(lease, ahead[0] if ahead else None, timeout))
            time.sleep(max(0.0, min(next(delays), deadline - now())))

    def _ahead(self, lease: Lease, watch: _Watch) -> list[Ticket] | None:
        """Live tickets ahead of ours, lowest first; dead ones retired on the way. None when the
        listing does not show our own ticket (a lagging read): it proves nothing then."""
        asked = now()
        tickets = self._tickets.live()
        answered = now()
        if not any(t.number == lease.number for t in tickets):
            return None
        ahead = []
        for t in tickets:
            if t.number == lease.number:
                continue
            if t.owner.id == lease.owner.id or watch.lapsed(t, asked, answered):
                # ours from a retried creation whose answer was lost, or dead
                self._tickets.retire_quietly(t.number, EXPIRED)
            elif t.number < lease.number:
                ahead.append(t)
        return sorted(ahead, key=lambda t: t.number)

    def _timeout_message(self, lease: Lease, holder: Ticket | None, timeout: float) -> str:
        if holder is None:
            return (
                f"could not take the registry lock on {self.where} within {timeout:g} s: the registry's list of "
                f"lock tickets did not show this apply's ticket {lease.number}; run apply again"
            )
        return timeout_message(self.where, holder, timeout)


def timeout_message(where: str, holder: Ticket, timeout: float) -> str:
    """Why an apply gave up waiting for `holder`; when it ran on this host and its process is gone,
    that, and the safe way to clear its ticket now (not "wait for an apply that is dead")."""
    held = f"the registry lock on {where} is held by {holder.describe()}, last heartbeat {iso(holder.updated_ms)}"
    gave_up = "not waiting (lock timeout 0)" if timeout == 0 else f"gave up after waiting {timeout:g} s"
    if holder_is_dead_here(holder):
        return f"{held}; {gave_up}. {_dead_clause(holder)}"
    if timeout == 0:
        return (
            f"{held}; {gave_up}. Run apply again when that apply has finished, "
            "or pass --lock-timeout SECONDS to wait for it"
        )
    return (
        f"{held}; {gave_up}. Run apply again when that apply has finished "
        f"(a holder that died loses the lock {judged_ttl(holder):g} s after its last heartbeat), "
        "or wait longer with --lock-timeout"
    )


def _backoff(settings: LockSettings) -> Iterator[float]:
    """Waits between looks at the queue: growing, capped, with jitter so waiters spread out."""
    delay = settings.poll
    while True:
        yield delay * random.uniform(0.8, 1.2)
        delay = min(delay * 1.5, settings.max_poll)


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return (clip(text.splitlines()[0], 300) if text else type(e).__name__) or type(e).__name__


def default_owner(
    actor: str, plan: str | None = None, pull_request: str | None = None, commit: str | None = None
) -> Owner:
    """The applier as its ticket records it: who, for which plan, pull request and commit, from where."""
    return Owner(
        actor=actor,
        plan=plan,
        pull_request=pull_request,
        commit=commit,
        host=socket.gethostname(),
        pid=str(os.getpid()),
        started_at=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        id=uuid.uuid4().hex,
    )
