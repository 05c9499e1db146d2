"""Which versions the pull-request check smoke-tests: every version a protected move gives an alias
or stage to (the review policy's `protected`), with the smoke settings of the base branch's model
file (a new model's own file may set a sample or a budget, never opt out). Pure."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

from reconciler.governance.gates import protected_moves
from reconciler.governance.policy import ReviewPolicy
from reconciler.plan.values import Plan
from reconciler.state import DesiredModel, LiveState, SmokeSettings


@dataclass(frozen=True)
class Candidate:
    model: str
    version: int
    targets: tuple[str, ...]  # "alias champion", "stage Production"
    settings: SmokeSettings
    source: str  # the file the settings come from ("" for the defaults)


def candidates(
    plan: Plan,
    live: LiveState,
    base_models: Mapping[str, DesiredModel],
    base_policy: ReviewPolicy,
    head_models: Iterable[DesiredModel] = (),
    base_dir: str | None = None,
) -> tuple[Candidate, ...]:
    """`base_dir`: the models directory as the repository names it, for base files read from a temporary copy."""
    head = {m.name: m for m in head_models}
    found: dict[tuple[str, int], Candidate] = {}
    for move, _ in protected_moves(plan, live, base_models, base_policy):
        key = (move.model, move.candidate)
        if key in found:
            found[key] = dataclasses.replace(found[key], targets=(*found[key].targets, move.target))
            continue
        settings, source = _settings(base_models.get(move.model), head.get(move.model), base_dir)
        found[key] = Candidate(move.model, move.candidate, (move.target,), settings, source)
    return tuple(found.values())


def _settings(base: DesiredModel | None, head: DesiredModel | None, base_dir: str | None) -> tuple[SmokeSettings, str]:
    if base is not None:
        name = PurePosixPath(base.source).name
        return base.smoke, f"{base_dir}/{name}" if base_dir else base.source
    if head is not None:  # a model new on this branch: its file may not switch its own check off
        return dataclasses.replace(head.smoke, enabled=True), head.source
    return SmokeSettings(), ""
