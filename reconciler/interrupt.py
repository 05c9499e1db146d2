"""SIGTERM and Ctrl-C (SIGINT) stop a command where it is: it unwinds (an apply releases the
registry lock, and its workers write nothing more), and the error handler says in one line what
it leaves behind, exiting 128 + the signal's number (143, 130) as a shell reports it.

What is left behind is kept here as the command goes (`leaves`): each part of the flow that
changes what an interruption would leave says so when it does.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from reconciler.errors import WritesStopped

WRITES = "writes"  # the topic every command has: what it changed so far
NOTHING = "nothing was changed"
Said = str | Callable[[], str]

_left: dict[str, Said] = {}
_received: list[int] = []


class Interrupted(BaseException):
    """SIGTERM (or SIGINT) arrived. Not an Exception: no `except Exception` handler swallows it."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def leaves(topic: str, said: Said | None) -> None:
    """What the command leaves behind on `topic` if it stops now (None: nothing more to say).
    `said` may be a function, called when the line is printed (after the unwinding)."""
    if said is None:
        _left.pop(topic, None)
    else:
        _left[topic] = said


def left() -> str:
    parts = {WRITES: NOTHING, **_left}
    return "; ".join(p() if callable(p) else p for p in parts.values())


def check() -> None:
    """Before every write (any thread): once a signal arrived, nothing more is written."""
    if _received:
        raise WritesStopped(f"this process received {signal.Signals(_received[0]).name}")


def _on_signal(signum: int, frame: FrameType | None) -> None:
    _received.append(signum)
    if len(_received) > 1:  # already stopping: a second signal must not cut the unwinding short (the lock's release)
        return
    raise Interrupted(signum)  # for SIGINT too: click turns a KeyboardInterrupt into "Aborted!"


@contextmanager
def handled() -> Iterator[None]:
    """SIGTERM and SIGINT raise Interrupted in the main thread, and stop writes in every thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _left.clear()
    _received.clear()
    previous: dict[int, Any] = {s: signal.signal(s, _on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
