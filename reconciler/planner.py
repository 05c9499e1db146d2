"""The pure planner: desired + live state in, a frozen plan out. No I/O, no MLflow.

Pair desired and live models by name first; every pair with a missing side is an explicit
case. Then diff each pair, field by field, through the small tables below.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from reconciler.desired import to_document
from reconciler.plan import Action, Address, Change, Field, Note, Plan, sorted_changes
from reconciler.state import (
    DesiredModel,
    DesiredVersion,
    LiveModel,
    LiveState,
    LiveVersion,
    Stage,
    fingerprint,
    user_tags,
)

UNMANAGED_MODEL = "registered model without a file in models/; 'reconciler import {name}' writes one"


def build_plan(desired: Sequence[DesiredModel], live: LiveState) -> Plan:
    changes: list[Change] = []
    notes: list[Note] = []
    names = {m.name for m in desired}
    for model in desired:
        live_model = live.models.get(model.name)
        if live_model is None:
            changes.extend(_create_model(model))
        else:
            c, n = diff_model(model, live_model)
            changes.extend(c)
            notes.extend(n)
    for name in sorted(set(live.models) - names):
        notes.append(Note(Address(name), UNMANAGED_MODEL.format(name=name)))
    scope = tuple(sorted(names))
    return Plan(
        changes=sorted_changes(changes),
        notes=tuple(notes),
        live_fingerprint=fingerprint(live, scope),
        scope=scope,
        desired=tuple(to_document(m) for m in sorted(desired, key=lambda m: m.name)),
    )


def _create_model(model: DesiredModel) -> list[Change]:
    out = [Change(Address(model.name), Action.CREATE, None, model.description or "")]
    for key, value in (model.tags or {}).items():
        out.append(Change(Address(model.name, None, Field.TAG, key), Action.CREATE, None, value))
    return out


def diff_model(model: DesiredModel, live: LiveModel) -> tuple[list[Change], list[Note]]:
    changes: list[Change] = []
    notes: list[Note] = []
    name, prune = model.name, model.policy.prune
    changes += _diff_value(Address(name, None, Field.DESCRIPTION), model.description, live.description)
    _diff_map(Address(name, None, Field.TAG), model.tags, user_tags(live.tags), prune.tags, changes, notes)
    stages, reasons = final_stages(model, live)
    changes += _stage_changes(model, live, stages, reasons)
    vacated = vacated_stage_aliases(model, stages, live)
    changes += vacated
    live_aliases = {a: n for a, n in live.aliases.items() if a not in {c.address.key for c in vacated}}
    aliases = desired_aliases(model, stages)
    _diff_map(Address(name, None, Field.ALIAS), aliases, live_aliases, prune.aliases, changes, notes)
    for number, version in model.versions.items():
        lv = live.versions.get(number)
        if lv is not None:
            changes += _diff_version(name, version, lv, prune.version_tags, notes)
    return changes, notes


def _diff_version(
    model: str, desired: DesiredVersion, live: LiveVersion, prune_tags: bool, notes: list[Note]
) -> list[Change]:
    changes = _diff_value(Address(model, live.version, Field.DESCRIPTION), desired.description, live.description)
    _diff_map(Address(model, live.version, Field.TAG), desired.tags, user_tags(live.tags), prune_tags, changes, notes)
    return changes


def _diff_value(address: Address, desired: str | None, live: str | None) -> list[Change]:
    if desired is None or desired == (live or ""):
        return []
    return [Change(address, Action.UPDATE, live or "", desired)]


def _diff_map(
    base: Address, desired: Mapping | None, live: Mapping, prune: bool, changes: list[Change], notes: list[Note]
) -> None:
    """Keyed entries (tags, aliases): pair by key, then create / update / prune-or-report."""
    desired = desired if desired is not None else {}
    for key in sorted(set(desired) | set(live)):
        address = Address(base.model, base.version, base.field, key)
        if key not in live:
            changes.append(Change(address, Action.CREATE, None, desired[key]))
        elif key not in desired:
            if prune:
                changes.append(Change(address, Action.DELETE, live[key], None, "policy.prune"))
            else:
                notes.append(
                    Note(
                        address,
                        f"in the registry, not in the file (= {live[key]!r}); left alone unless policy.prune opts in",
                    )
                )
        elif desired[key] != live[key]:
            changes.append(Change(address, Action.UPDATE, live[key], desired[key]))


def final_stages(model: DesiredModel, live: LiveModel) -> tuple[dict[int, Stage], dict[int, str]]:
    """Every live version's stage once the plan is applied (the file, then policies),
    and for each version a policy archives, the policy's name."""
    stages = {n: v.stage for n, v in live.versions.items()}
    stages.update({n: v.stage for n, v in model.versions.items() if v.stage and n in stages})
    reasons: dict[int, str] = {}
    for number, reason in list(_policy_archives(model, live, stages)):
        stages[number] = Stage.ARCHIVED
        reasons.setdefault(number, reason)
    return stages, reasons


def _policy_archives(model: DesiredModel, live: LiveModel, stages: Mapping[int, Stage]) -> Iterable[tuple[int, str]]:
    """Versions a policy archives. A stage the file sets explicitly always wins over a policy."""
    explicit = {n for n, v in model.versions.items() if v.stage is not None}
    for stage in sorted(model.policy.exclusive_stages):
        if any(model.versions[n].stage is stage for n in explicit):
            for n in sorted(stages):
                if stages[n] is stage and n not in explicit:
                    yield n, "policy.exclusive_stages"
    keep = model.policy.keep_latest
    if keep is not None:
        named, aliased = model.named_versions(), set(live.aliases.values())
        for n in sorted(live.versions, reverse=True)[keep:]:
            if n not in named and n not in aliased and stages[n] is not Stage.ARCHIVED:
                yield n, "policy.keep_latest"


def _stage_changes(
    model: DesiredModel, live: LiveModel, stages: Mapping[int, Stage], reasons: Mapping[int, str]
) -> list[Change]:
    out = []
    for n in sorted(stages):
        before = live.versions[n].stage
        if stages[n] is not before:
            out.append(
                Change(
                    Address(model.name, n, Field.STAGE), Action.UPDATE, before.value, stages[n].value, reasons.get(n)
                )
            )
    return out


def desired_aliases(model: DesiredModel, stages: Mapping[int, Stage]) -> Mapping[str, int] | None:
    """The file's aliases plus those that follow a stage (policy.stage_aliases)."""
    if model.aliases is None and not model.policy.stage_aliases:
        return None
    aliases = dict(model.aliases or {})
    for stage, alias in model.policy.stage_aliases.items():
        holders = [n for n, s in stages.items() if s is stage]
        if len(holders) == 1:
            aliases.setdefault(alias, holders[0])
    return aliases


def vacated_stage_aliases(model: DesiredModel, stages: Mapping[int, Stage], live: LiveModel) -> list[Change]:
    """An alias that follows a stage nobody will hold is removed, as the stage is empty."""
    out = []
    for stage, alias in sorted(model.policy.stage_aliases.items()):
        if alias in live.aliases and alias not in (model.aliases or {}) and stage not in stages.values():
            address = Address(model.name, None, Field.ALIAS, alias)
            out.append(Change(address, Action.DELETE, live.aliases[alias], None, "policy.stage_aliases"))
    return out
