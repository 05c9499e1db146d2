"""A model's policies resolved against the live registry: the stage of every version and the
aliases once a plan is applied, and which policy asked for each change. Pure.

Resolution reaches a fixed point, so planning again right after an apply finds nothing to do:
`keep_latest` spares versions that the final aliases point at (not the aliases of before the
apply), and stage-following aliases are derived from the final stages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from reconciler.state import DesiredModel, LiveModel, Stage, frozen_map

EXCLUSIVE = "policy.exclusive_stages"
KEEP_LATEST = "policy.keep_latest"
STAGE_ALIASES = "policy.stage_aliases"
PRUNE = "policy.prune"


@dataclass(frozen=True)
class Resolved:
    stages: Mapping[int, Stage]  # every live version's stage after the plan
    stage_reasons: Mapping[int, str] = field(default_factory=frozen_map)
    # None: the file does not manage aliases. A value of None: the alias must not exist.
    aliases: Mapping[str, int | None] | None = None
    alias_reasons: Mapping[str, str] = field(default_factory=frozen_map)

    def final_aliases(self, live: Mapping[str, int], prune: bool) -> dict[str, int]:
        """The registry's aliases once the plan is applied (with `prune`, those the file does not name go)."""
        wanted = self.aliases or {}
        kept = {} if prune else {a: n for a, n in live.items() if a not in wanted}
        return {**kept, **{a: n for a, n in wanted.items() if n is not None}}


def resolve(model: DesiredModel, live: LiveModel) -> Resolved:
    stages = {n: v.stage for n, v in live.versions.items()}
    explicit = {n: v.stage for n, v in model.versions.items() if v.stage is not None and n in stages}
    stages.update(explicit)
    reasons: dict[int, str] = {}
    for n in _exclusive_archives(model, stages, explicit):
        stages[n] = Stage.ARCHIVED
        reasons.setdefault(n, EXCLUSIVE)
    while True:  # each round archives at least one version, or stops
        aliases, alias_reasons = _aliases(model, stages, live)
        spared = Resolved(stages, aliases=aliases).final_aliases(live.aliases, "aliases" in model.policy.prune)
        archived = _keep_latest_archives(model, live, stages, set(spared.values()))
        if not archived:
            return Resolved(frozen_map(stages), frozen_map(reasons), aliases, frozen_map(alias_reasons))
        for n in archived:
            stages[n] = Stage.ARCHIVED
            reasons.setdefault(n, KEEP_LATEST)


def _exclusive_archives(model: DesiredModel, stages: Mapping[int, Stage], explicit: Mapping[int, Stage]) -> list[int]:
    """A stage the file gives a version in an exclusive stage archives its other holders;
    a stage the file sets explicitly always wins over a policy."""
    out = []
    for stage in sorted(model.policy.exclusive_stages):
        if stage in explicit.values():
            out += [n for n in sorted(stages) if stages[n] is stage and n not in explicit]
    return out


def _keep_latest_archives(
    model: DesiredModel, live: LiveModel, stages: Mapping[int, Stage], aliased: set[int]
) -> list[int]:
    keep = model.policy.keep_latest
    if keep is None:
        return []
    named = model.named_versions()
    return [
        n
        for n in sorted(live.versions, reverse=True)[keep:]
        if n not in named and n not in aliased and stages[n] is not Stage.ARCHIVED
    ]


def _aliases(
    model: DesiredModel, stages: Mapping[int, Stage], live: LiveModel
) -> tuple[dict[str, int | None] | None, dict[str, str]]:
    """The file's aliases plus those that follow a stage; an alias following a stage that nobody
    will hold must go (unless the file sets it itself)."""
    if model.aliases is None and not model.policy.stage_aliases:
        return None, {}
    aliases: dict[str, int | None] = dict(model.aliases or {})
    reasons: dict[str, str] = {}
    for stage, alias in sorted(model.policy.stage_aliases.items()):
        if alias in aliases:
            continue
        holders = [n for n in sorted(stages) if stages[n] is stage]
        if len(holders) == 1:
            aliases[alias] = holders[0]
            reasons[alias] = STAGE_ALIASES
        elif not holders and alias in live.aliases:
            aliases[alias] = None
            reasons[alias] = STAGE_ALIASES
    return aliases, reasons
