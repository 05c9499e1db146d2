"""Where a command's time goes: RECONCILER_TIMINGS=1 prints each phase's wall time to stderr at exit
(bench/cli_bench.py reads it; users can too, to see whether files, the registry or the plan is slow)."""

from __future__ import annotations

import atexit
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

_PHASES: dict[str, float] = {}
ENABLED = os.environ.get("RECONCILER_TIMINGS") == "1"


@contextmanager
def phase(name: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        _PHASES[name] = _PHASES.get(name, 0.0) + time.perf_counter() - started


def note(name: str, value: float) -> None:
    """A figure that is not a duration (e.g. registry_calls), shown with the phases."""
    _PHASES[name] = value


def _report() -> None:
    parts = " ".join(f"{k}={v:.3f}" for k, v in _PHASES.items())
    sys.stderr.write(f"timings: {parts}\n")


if ENABLED:
    atexit.register(_report)
