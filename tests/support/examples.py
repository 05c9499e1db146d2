"""How many examples a property test draws: a tenth in `make test`, the full count in `make test-full`.

The suite runs on every push and shares two cores; the full counts are what each property was
written with, and the nightly job (make test-full, RECONCILER_EXAMPLES=full) runs them. A test
names its full count once: `@settings(max_examples=examples(1500), ...)`.
"""

from __future__ import annotations

import os

FULL = os.environ.get("RECONCILER_EXAMPLES", "") == "full"
SHARE = 10  # the suite draws 1 in SHARE of the full count
FLOOR = 20  # and never fewer than this (a property with few examples still finds the easy cases)


def examples(full: int) -> int:
    """The suite's count for a property written with `full` examples."""
    return full if FULL else min(full, max(FLOOR, full // SHARE))
