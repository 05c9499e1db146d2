"""Judge each monitored model's served version by its production runs. Pure: the runs, the served
and replaced versions and the time come in as values; read.py fetches them.

A window is the served version's runs of the last `hours` (ending now) or its last `runs` runs. A
metric's value over the window is the mean of its runs weighted by their `samples`. Fewer samples
than `min_samples`, or a metric the window never logged, is UNKNOWN, never healthy; any failed
threshold is a BREACH.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from reconciler.state import HealthRule, Monitoring, Threshold

HOUR_MS = 3_600_000
REL_TOL = 1e-9
NO_REPLACED = "no replaced version to compare (the audit journal names none)"


class Health(str, Enum):
    HEALTHY = "healthy"
    BREACH = "breach"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ProductionRun:
    model: str
    version: int
    end_ms: int
    metrics: Mapping[str, float]
    run_id: str = ""

    @property
    def samples(self) -> float:
        return self.metrics.get("samples", 1.0)


@dataclass(frozen=True)
class Monitored:
    name: str
    source: str  # the model file
    spec: Monitoring
    served: int  # the version the file's alias names
    replaced: int | None = None  # the version that held the alias before (the audit journal)


@dataclass(frozen=True)
class ThresholdResult:
    threshold: Threshold
    value: float | None
    replaced_value: float | None = None
    passed: bool | None = None  # None: not judged (see reason)
    reason: str = ""

    def rule(self) -> str:
        t = self.threshold
        if t.rule is HealthRule.AT_LEAST:
            return f">= {t.value!r}"
        if t.rule is HealthRule.AT_MOST:
            return f"<= {t.value!r}"
        return f"<= replaced + {t.value!r}" if t.lower_is_better else f">= replaced - {t.value!r}"


@dataclass(frozen=True)
class ModelHealth:
    model: str
    source: str
    version: int
    replaced: int | None
    state: Health
    samples: float
    results: tuple[ThresholdResult, ...] = ()
    reason: str = ""
    series: Mapping[str, tuple[tuple[int, float], ...]] = field(default_factory=dict)  # metric -> (end, value)
    window: str = ""

    def breached(self) -> tuple[ThresholdResult, ...]:
        return tuple(r for r in self.results if r.passed is False)

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "file": self.source,
            "version": self.version,
            "replaced": self.replaced,
            "state": self.state.value,
            "samples": self.samples,
            "window": self.window,
            "reason": self.reason,
            "thresholds": [
                {
                    "metric": r.threshold.metric,
                    "rule": r.rule(),
                    "value": r.value,
                    "replaced_value": r.replaced_value,
                    "passed": r.passed,
                    "reason": r.reason,
                }
                for r in self.results
            ],
        }


def window_label(spec: Monitoring) -> str:
    return f"last {spec.window_hours:g} h" if spec.window_hours is not None else f"last {spec.window_runs} runs"


def in_window(runs: Sequence[ProductionRun], spec: Monitoring, now_ms: int) -> list[ProductionRun]:
    ordered = sorted(runs, key=lambda r: r.end_ms)
    if spec.window_hours is not None:
        start = now_ms - spec.window_hours * HOUR_MS
        return [r for r in ordered if start < r.end_ms <= now_ms]
    return ordered[-(spec.window_runs or 1) :]


def replaced_window(runs: Sequence[ProductionRun], spec: Monitoring) -> list[ProductionRun]:
    """The replaced version's last window while it served: ending at its last run."""
    if not runs:
        return []
    last = max(r.end_ms for r in runs)
    return in_window(runs, spec, last)


def weighted(runs: Iterable[ProductionRun], metric: str) -> float | None:
    pairs = [(r.metrics[metric], r.samples) for r in runs if metric in r.metrics and math.isfinite(r.metrics[metric])]
    total = sum(w for _, w in pairs)
    if not pairs or total <= 0:
        return None
    return sum(v * w for v, w in pairs) / total


def evaluate(m: Monitored, runs_by_version: Mapping[int, Sequence[ProductionRun]], now_ms: int) -> ModelHealth:
    window = in_window(runs_by_version.get(m.served, ()), m.spec, now_ms)
    samples = sum(r.samples for r in window)
    series = {
        t.metric: tuple((r.end_ms, r.metrics[t.metric]) for r in window if t.metric in r.metrics)
        for t in m.spec.thresholds
    }
    base = dict(model=m.name, source=m.source, version=m.served, replaced=m.replaced, samples=samples, series=series)
    label = window_label(m.spec)
    if samples < m.spec.min_samples:
        why = f"{samples:g} samples in the {label}, fewer than min_samples {m.spec.min_samples}: not judged"
        return ModelHealth(**base, state=Health.UNKNOWN, reason=why, window=label)  # type: ignore[arg-type]
    before = replaced_window(runs_by_version.get(m.replaced, ()), m.spec) if m.replaced is not None else []
    results = tuple(_judge(t, window, before, m.replaced) for t in m.spec.thresholds)
    if any(r.passed is False for r in results):
        state = Health.BREACH
    elif any(r.passed is None for r in results):
        state = Health.UNKNOWN
    else:
        state = Health.HEALTHY
    reason = "; ".join(r.reason for r in results if r.passed is not True and r.reason)
    return ModelHealth(**base, state=state, results=results, reason=reason, window=label)  # type: ignore[arg-type]


def _judge(
    t: Threshold, window: Sequence[ProductionRun], before: Sequence[ProductionRun], replaced: int | None
) -> ThresholdResult:
    value = weighted(window, t.metric)
    if value is None:
        return ThresholdResult(
            t, None, reason=f"metric {t.metric!r} was never logged in the window; log it or fix the name"
        )
    if t.rule is HealthRule.AT_LEAST:
        return ThresholdResult(t, value, passed=value >= t.value, reason=_breach(t, value))
    if t.rule is HealthRule.AT_MOST:
        return ThresholdResult(t, value, passed=value <= t.value, reason=_breach(t, value))
    if replaced is None:
        return ThresholdResult(t, value, passed=True, reason=NO_REPLACED)  # as a gate with no current holder
    old = weighted(before, t.metric)
    if old is None:
        return ThresholdResult(t, value, reason=f"v{replaced} has no {t.metric!r} in its production runs to compare")
    worse_by = value - old if t.lower_is_better else old - value
    ok = worse_by <= t.value or math.isclose(worse_by, t.value, rel_tol=REL_TOL)
    why = (
        "" if ok else f"{t.metric} {value:.4g} is worse than v{replaced}'s {old:.4g} by {worse_by:.4g} (> {t.value:g})"
    )
    return ThresholdResult(t, value, old, ok, why)


def _breach(t: Threshold, value: float) -> str:
    ok = value >= t.value if t.rule is HealthRule.AT_LEAST else value <= t.value
    word = "below" if t.rule is HealthRule.AT_LEAST else "above"
    return "" if ok else f"{t.metric} {value:.4g} is {word} {t.value:g}"
