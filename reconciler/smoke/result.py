"""The typed result of one smoke test: what was scored, what came back, and why it failed."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any


class Outcome(str, Enum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_TESTED = "not tested"  # no logged example and no declared sample
    SKIPPED = "skipped"  # the model file opts out (smoke: {enabled: false})


NO_EXAMPLE_FIX = (
    "the version has no logged input example: log one with the model "
    "(mlflow.<flavor>.log_model(..., input_example=X[:5])) or declare `smoke: {sample: FILE}` in the model file"
)


@dataclass(frozen=True)
class SmokeResult:
    model: str
    version: int
    outcome: Outcome
    input: str = ""  # serving_input_example.json, or the sample file
    rows: int | None = None  # rows scored
    latency_ms: float | None = None  # the scoring call alone (the model loaded)
    load_ms: float | None = None  # download + load
    reasons: tuple[str, ...] = ()  # why it failed, or the fix when not tested

    @property
    def ok(self) -> bool:
        """Does not block the move: passed, opted out, or not tested (unless the policy requires an
        example: then batch.py makes it a failure)."""
        return self.outcome is not Outcome.FAILED

    def reason(self) -> str:
        return "; ".join(self.reasons)

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "outcome": self.outcome.value,
            "input": self.input,
            "rows": self.rows,
            "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 3),
            "load_ms": None if self.load_ms is None else round(self.load_ms, 3),
            "reasons": list(self.reasons),
        }
