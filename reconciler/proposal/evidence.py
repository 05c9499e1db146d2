"""What a reviewer needs to judge a proposed version: its run, the versions it would be compared
with, and the review policy's gates applied to a promotion of it, as they stand today. Pure."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from reconciler.governance.gates import GateResult, Move, judge
from reconciler.governance.policy import ModelRules
from reconciler.state import LiveModel, LiveVersion, Run, Stage, frozen_map

LOWER_IS_BETTER_NAMES = ("loss", "error", "mae", "mse", "rmse", "mape")


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    status: str  # RUNNING, SCHEDULED, FINISHED, FAILED, KILLED
    experiment_id: str
    params: Mapping[str, str] = field(default_factory=frozen_map)
    metrics: Mapping[str, float] = field(default_factory=frozen_map)
    tags: Mapping[str, str] = field(default_factory=frozen_map)
    datasets: tuple[str, ...] = ()  # "name (digest d1e2…, source …)" from the run's inputs
    artifacts: tuple[str, ...] = ()
    link: str | None = None  # the tracking UI's page, without credentials; None without a server
    deleted: bool = False  # in the tracking server's trash (lifecycle_stage "deleted")


@dataclass(frozen=True)
class VersionInfo:
    number: int
    status: str  # READY, PENDING_REGISTRATION, FAILED_REGISTRATION
    stage: Stage
    run: RunInfo | None
    tags: Mapping[str, str] = field(default_factory=frozen_map)
    description: str = ""
    source: str = ""  # models:/m-… (MLflow 3's logged model) or runs:/…/model
    artifacts: tuple[str, ...] = ()  # the logged model's files, when read (`reconciler show`)


@dataclass(frozen=True)
class ModelView:
    """One registered model as propose and show read it: its aliases, and the versions they need."""

    name: str
    aliases: Mapping[str, int]
    versions: Mapping[int, VersionInfo]  # the candidate and the holders of the targets that matter

    def holder(self, target: str) -> int | None:
        """`alias champion` -> the version it points at; `stage Production` -> the newest version in it."""
        kind, name = target.split(" ", 1)
        if kind == "alias":
            return self.aliases.get(name)
        held = [n for n, v in self.versions.items() if v.stage.value == name]
        return max(held, default=None)


@dataclass(frozen=True)
class Evidence:
    model: str
    candidate: int
    proposes: str  # "alias challenger", "stage Staging"
    view: ModelView
    gates: tuple[GateResult, ...]
    lower_is_better: frozenset[str]
    protected_targets: tuple[str, ...]  # "alias champion", "stage Production"

    @property
    def run(self) -> RunInfo | None:
        return self.view.versions[self.candidate].run

    def compared(self) -> tuple[int, ...]:
        """The candidate first, then the current holders of what it proposes and what is protected."""
        targets = (*self.proposes.split(" and "), *self.protected_targets)
        holders = (self.view.holder(t) for t in targets)
        rest = sorted({n for n in holders if n is not None and n != self.candidate and n in self.view.versions})
        return (self.candidate, *rest)

    def holders(self, number: int) -> tuple[str, ...]:
        targets = (*self.proposes.split(" and "), *self.protected_targets)
        return tuple(t for t in dict.fromkeys(targets) if self.view.holder(t) == number)

    def metrics(self) -> tuple[str, ...]:
        gated = [r.gate.metric for r in self.gates]
        seen = [k for n in self.compared() for k in sorted(_metrics(self.view, n))]
        return tuple(dict.fromkeys([*gated, *seen]))

    def best(self, metric: str) -> int | None:
        """The version with the best value, when two or more logged it; a NaN is logged and never best
        (a candidate logging NaN must not hide that the holder has a value)."""
        values = {n: v for n in self.compared() if (v := _metrics(self.view, n).get(metric)) is not None}
        known = {n: v for n, v in values.items() if not math.isnan(v)}
        if len(values) < 2 or not known:
            return None
        pick = min if metric in self.lower_is_better else max
        return pick(known, key=lambda n: known[n])

    def passes(self) -> bool:
        return all(r.passed for r in self.gates)


def _metrics(view: ModelView, number: int) -> Mapping[str, float]:
    run = view.versions[number].run
    return run.metrics if run is not None else {}


def gather(view: ModelView, candidate: int, proposes: str, rules: ModelRules) -> Evidence:
    protected = (*(f"alias {a}" for a in sorted(rules.aliases)), *(f"stage {s.value}" for s in sorted(rules.stages)))
    live, runs = _live(view)
    results: list[GateResult] = []
    for target in protected:
        current = view.holder(target)
        move = Move(view.name, target, candidate, current if current != candidate else None)
        results.extend(judge(move, g, live, runs) for g in rules.protected.gates)
    lower = {g.metric for g in rules.protected.gates if g.lower_is_better or g.rule.value == "at_most"}
    lower |= {m for m in _all_metrics(view) if m.lower().split("_")[-1] in LOWER_IS_BETTER_NAMES}
    return Evidence(view.name, candidate, proposes, view, tuple(results), frozenset(lower), protected)


def _all_metrics(view: ModelView) -> set[str]:
    return {k for v in view.versions.values() if v.run for k in v.run.metrics}


def _live(view: ModelView) -> tuple[LiveModel, dict[str, Run]]:
    versions = {
        n: LiveVersion(n, frozen_map({"stage": v.stage}), run_id=v.run.run_id if v.run else None, status=v.status)
        for n, v in view.versions.items()
    }
    runs = {v.run.run_id: Run(v.run.status, v.run.metrics, v.run.deleted) for v in view.versions.values() if v.run}
    return LiveModel(view.name, frozen_map({"aliases": view.aliases}), frozen_map(versions)), runs
