"""A model's policies resolved against the live registry: the stage of every version and the
aliases once a plan is applied, and which policy asked for each change. Pure.

Resolution reaches a fixed point, so planning again right after an apply finds nothing to do:
`keep_latest` spares versions that the final aliases point at (not the aliases of before the
apply), and stage-following aliases are derived from the final stages.

`keep_latest` counts and archives only READY versions (a failed or pending registration is not one
of the latest, and is left alone), never a version the file names or an alias points at, and never
the holder of a stage the file guards (`guarded_stages`): those it spares, with a note saying so.
What a policy cannot decide (a stage-following alias whose stage has several holders) is a note
too, with what to do: the plan never leaves it unsaid.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from reconciler.plan.values import Address, Note
from reconciler.state import DesiredModel, LiveModel, Stage, frozen_map

EXCLUSIVE = "policy.exclusive_stages"
KEEP_LATEST = "policy.keep_latest"
STAGE_ALIASES = "policy.stage_aliases"
PRUNE = "policy.prune"
READY = "READY"  # MLflow's ModelVersionStatus of a finished registration


@dataclass(frozen=True)
class Resolved:
    stages: Mapping[int, Stage]  # every live version's stage after the plan
    stage_reasons: Mapping[int, str] = field(default_factory=frozen_map)
    # None: the file does not manage aliases. A value of None: the alias must not exist.
    aliases: Mapping[str, int | None] | None = None
    alias_reasons: Mapping[str, str] = field(default_factory=frozen_map)
    notes: tuple[Note, ...] = ()  # what the policies could not or would not do, and what to do

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
    prune = "aliases" in model.policy.prune
    while True:  # each round archives at least one version, or stops
        aliases, alias_reasons = _aliases(model, stages, live)
        final = Resolved(stages, aliases=aliases).final_aliases(live.aliases, prune)
        archived, kept = _keep_latest(model, live, stages, set(final.values()))
        if not archived:
            notes = (*kept, *_ambiguous_aliases(model, stages, live, aliases, final))
            return Resolved(frozen_map(stages), frozen_map(reasons), aliases, frozen_map(alias_reasons), notes)
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


_GUARDABLE = frozenset((Stage.STAGING, Stage.PRODUCTION))


def guarded_stages(model: DesiredModel) -> dict[Stage, str]:
    """The stages whose holders no policy archives on its own, each with where the file names it:
    a version's stage in the file, policy.exclusive_stages, policy.stage_aliases, review.stages."""
    named = [
        *((v.stage, f"versions.{n}.stage") for n, v in sorted(model.versions.items())),
        *((s, "policy.exclusive_stages") for s in sorted(model.policy.exclusive_stages)),
        *((s, "policy.stage_aliases") for s in sorted(model.policy.stage_aliases)),
        *((s, "review.protected.stages") for s in sorted(model.review.stages)),
    ]
    guarded: dict[Stage, str] = {}
    for stage, where in named:
        if stage in _GUARDABLE:
            guarded.setdefault(stage, where)
    return guarded


def _keep_latest(
    model: DesiredModel, live: LiveModel, stages: Mapping[int, Stage], aliased: set[int]
) -> tuple[list[int], list[Note]]:
    """The READY versions older than the newest `keep_latest` READY ones to archive, and a note
    for each of them spared because it holds a guarded stage."""
    keep = model.policy.keep_latest
    if keep is None:
        return [], []
    ready = [n for n in sorted(live.versions, reverse=True) if live.versions[n].status == READY]
    named, guarded = model.named_versions(), guarded_stages(model)
    older = [n for n in ready[keep:] if n not in named and n not in aliased and stages[n] is not Stage.ARCHIVED]
    kept = [n for n in older if stages[n] in guarded]
    newest = "the newest READY version" if keep == 1 else f"the newest {keep} READY versions"
    notes = [
        Note(
            Address(model.name, n, "stage"),
            f"older than {newest}, but not archived: it holds {stages[n].value}, which the file names "
            f"({guarded[stages[n]]}); to archive it, give it stage Archived in the file's versions",
            KEEP_LATEST,
        )
        for n in kept
    ]
    return [n for n in older if n not in kept], notes


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


def _ambiguous_aliases(
    model: DesiredModel,
    stages: Mapping[int, Stage],
    live: LiveModel,
    aliases: Mapping[str, int | None] | None,
    final: Mapping[str, int],
) -> list[Note]:
    """A stage-following alias whose stage several versions hold follows none of them: say where
    it stays (or that it is removed), and what to do."""
    notes = []
    for stage, alias in sorted(model.policy.stage_aliases.items()):
        holders = [n for n in sorted(stages) if stages[n] is stage]
        if alias in (aliases or {}) or len(holders) < 2:
            continue
        where = final.get(alias)
        if where is None:
            now = "it is removed (policy.prune.aliases)" if alias in live.aliases else "it is not set"
        elif where in holders:
            now = f"it stays on v{where}"
        else:
            now = f"it stays on v{where}, which is not in {stage.value}: consumers of @{alias} get that version"
        notes.append(
            Note(
                Address(model.name, None, "alias", alias),
                f"{len(holders)} versions are in {stage.value} "
                f"({', '.join(f'v{n}' for n in holders)}), so alias '{alias}' cannot follow the stage and {now}; "
                f"leave one version in {stage.value} (give the others another stage in the file, or set "
                f"policy.exclusive_stages: [{stage.value}]), or set the alias in the file's aliases",
                STAGE_ALIASES,
            )
        )
    return notes
