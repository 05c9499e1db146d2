"""Where a command's time goes: RECONCILER_TIMINGS=1 prints each phase's wall time to stderr at exit,
and the process's CPU time in it as `<phase>_cpu` (on a loaded machine wall time includes waiting
for a core; CPU time does not). bench/cli_bench.py reads it; users can too, to see whether files,
the registry or the plan is slow."""

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
    started, cpu = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        _PHASES[name] = _PHASES.get(name, 0.0) + time.perf_counter() - started
        key = f"{name}_cpu"  # all threads of the process (the read's are mostly waiting on the server)
        _PHASES[key] = _PHASES.get(key, 0.0) + time.process_time() - cpu


def note(name: str, value: float) -> None:
    """A figure that is not a duration (e.g. registry_calls), shown with the phases."""
    _PHASES[name] = value


def _report() -> None:
    parts = " ".join(f"{k}={v:.3f}" for k, v in _PHASES.items())
    sys.stderr.write(f"timings: {parts}\n")


if ENABLED:
    atexit.register(_report)
