"""The registry read, started before the heavy imports and the file load (issue 19).

Reading a server's registry is almost all waiting on the server; interpreter start-up, imports and
loading the files are CPU. The CLI starts the read in a thread as soon as it knows the verb reads the
whole registry first (reconciler/commandline.py), and the verb takes the result where it would
have read (`take`). Only an HTTP registry is read early: a database is read through MLflow's store,
whose import is itself the CPU we would overlap with. This module and what it imports load neither
MLflow nor the YAML readers.

Errors are reported exactly as before, and where before: the thread keeps what the read raised, and
`take` raises it, after the files were loaded and checked; a bad file is reported first, and nothing
is written either way. A read that is never taken (the command stopped earlier) is dropped with the
process.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Protocol

from reconciler.errors import ReconcilerError
from reconciler.registry.reader import CallCounter, HttpReader
from reconciler.registry.rest import Rest
from reconciler.registry.target import Target, resolve_target
from reconciler.state import LiveState


class Reading(Protocol):
    """The session that takes the early read (reconciler/registry/session.py `Session`, which imports this
    module when it reads: a protocol, so no cycle)."""

    target: Target
    counter: CallCounter
    _rest: Rest | None


@dataclass
class EarlyRead:
    """One full read of an HTTP registry, running in a daemon thread."""

    target: Target
    rest: Rest
    counter: CallCounter = field(default_factory=CallCounter)
    seconds: float = 0.0
    _live: LiveState | None = None
    _error: BaseException | None = None
    _done: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        started = time.perf_counter()
        try:
            self._live = HttpReader(self.rest, self.counter).live()
        except BaseException as e:  # kept, and raised in the main thread by result()
            self._error = e
        finally:
            self.seconds = time.perf_counter() - started
            self._done.set()

    def wait(self) -> None:
        self._done.wait()

    def result(self) -> LiveState:
        self._done.wait()
        if self._error is not None:
            raise self._error
        assert self._live is not None
        return self._live


_started: EarlyRead | None = None


def start() -> EarlyRead | None:
    """Start reading the registry the environment names, if it is a server; None otherwise (a bad
    URI is left for the command to report, where it reports it today)."""
    global _started
    try:
        target = resolve_target()
    except ReconcilerError:
        return None
    if not target.is_http:
        return None
    try:
        rest = Rest(target)
    except ReconcilerError:  # a bad HTTP setting: the command reports it where it reads
        return None
    _started = EarlyRead(target, rest)
    threading.Thread(target=_started.run, name="registry-read", daemon=True).start()
    return _started


def forget() -> None:
    """Drop a read no command took: the next command reads for itself."""
    global _started
    _started = None


def take(session: Reading) -> LiveState | None:
    """The early read's live state for this session's target (once: a second read reads again), or
    None. Raises what the read raised. The session reuses the read's connection and counts its calls."""
    global _started
    early, _started = _started, None
    if early is None or early.target != session.target:
        return None
    early.wait()
    session.counter.add(early.counter.calls)
    from reconciler import timing

    timing.note("early_read", early.seconds)
    live = early.result()
    if session._rest is None:
        session._rest = early.rest
    return live
