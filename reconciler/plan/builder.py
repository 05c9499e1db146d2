"""The pure planner: desired + live state in, a frozen plan out. No I/O, no MLflow.

Pair desired and live models by name first; every pair with a missing side is an explicit case.
Then resolve the model's policies (reconciler/plan/retention.py) and diff every declared field of the
model and of each version, generically (reconciler/fields/ says how each field diffs).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.fields import CREATED_WITH, STAGE_FIELD, Field, Level, at
from reconciler.fields.fingerprint import fingerprint
from reconciler.files import modelnames
from reconciler.plan.retention import PRUNE, Resolved, resolve
from reconciler.plan.values import MODEL, Action, Address, Change, Note, Plan, sorted_changes
from reconciler.state import DesiredModel, LiveModel, LiveState

UNMANAGED_MODEL = "registered model without a file in models/; this writes one: {command}"


def _unmanaged(name: str, twins: Mapping[str, Sequence[str]]) -> str:
    """The note for a registered model without a file: the command that writes one, or why none can."""
    why = modelnames.unmanageable(name) or (modelnames.twin_problem(name, twins[name]) if name in twins else None)
    if why is not None:  # `import` would refuse it: say why instead
        return f"registered model without a file in models/; {why}"
    return UNMANAGED_MODEL.format(command=modelnames.import_command(name))  # to paste as is


def build_plan(desired: Sequence[DesiredModel], live: LiveState, registry: str = "") -> Plan:
    changes: list[Change] = []
    notes: list[Note] = []
    names = {m.name for m in desired}
    for model in desired:
        live_model = live.models.get(model.name)
        c, n = _create_model(model) if live_model is None else diff_model(model, live_model)
        changes += c
        notes += n
    twins = modelnames.twins([*sorted(names), *sorted(live.models)])
    for name in sorted(set(live.models) - names):
        notes.append(Note(Address(name), _unmanaged(name, twins)))
    scope = tuple(sorted(names))
    return Plan(
        changes=sorted_changes(changes),
        notes=tuple(notes),
        live_fingerprint=fingerprint(live, scope),
        scope=scope,
        desired=tuple(sorted(desired, key=lambda m: m.name)),
        registry=registry,
    )


def _create_model(model: DesiredModel) -> tuple[list[Change], list[Note]]:
    """A model the registry does not have: create it (with its description, `CREATED_WITH`), then its
    other fields. It has no versions yet, so nothing else can refer to one."""
    created = CREATED_WITH.file_key
    changes = [Change(Address(model.name), Action.CREATE, None, model.values.get(created, CREATED_WITH.empty))]
    model_fields = at(Level.MODEL)
    empty = LiveModel(model.name, {f.file_key: f.empty for f in model_fields})
    wanted = {k: v for k, v in model.values.items() if k != created}
    notes: list[Note] = []
    for f in model_fields:
        _diff_field(f, Address(model.name), wanted, empty.values, model, {}, changes, notes)
    return changes, notes


def diff_model(model: DesiredModel, live: LiveModel) -> tuple[list[Change], list[Note]]:
    changes: list[Change] = []
    notes: list[Note] = []
    resolved = resolve(model, live)
    notes += resolved.notes
    wanted = _model_values(model, resolved)
    for f in at(Level.MODEL):
        _diff_field(f, Address(model.name), wanted, live.values, model, resolved.alias_reasons, changes, notes)
    version_fields = at(Level.VERSION)
    for number, lv in sorted(live.versions.items()):
        file_version = model.versions.get(number)
        values = {**(file_version.values if file_version else {}), "stage": resolved.stages[number]}
        reasons = {None: resolved.stage_reasons[number]} if number in resolved.stage_reasons else {}
        base = Address(model.name, number)
        # A version the file does not list is only moved by policies (its stage); nothing else is reported.
        have = lv.values
        for f in version_fields if file_version else (STAGE_FIELD,):
            if not _unchanged(f, values, have):
                _diff_field(f, base, values, have, model, reasons, changes, notes)
    return changes, notes


def _model_values(model: DesiredModel, resolved: Resolved) -> Mapping[str, Any]:
    values = dict(model.values)
    if resolved.aliases is not None:
        values["aliases"] = resolved.aliases
    return values


def _unchanged(f: Field, wanted: Mapping[str, Any], live: Mapping[str, Any]) -> bool:
    """The common case, without building an address: 20,000 versions' fields on a no-op plan. Typed
    values compare as their file values do (a stage is an enum; a tag map, strings)."""
    key = f.file_key
    if f.is_map:
        want = wanted.get(key, _NO_ENTRIES)
        return bool(want == live.get(key, f.empty) and None not in want.values())
    return key not in wanted or wanted[key] == live.get(key, f.empty)


_NO_ENTRIES: Mapping[str, Any] = {}


def _diff_field(
    f: Field,
    base: Address,
    wanted: Mapping[str, Any],
    live: Mapping[str, Any],
    model: DesiredModel,
    reasons: Mapping[Any, str],
    changes: list[Change],
    notes: list[Note],
) -> None:
    if f.is_map:  # entries the file does not name are reported (or pruned), whether or not it has the key
        want, have = wanted.get(f.file_key, {}), f.live(live)
        if want == have and None not in want.values():  # the common case, 20,000 times on a no-op plan
            return
        prune = f.prune is not None and f.prune in model.policy.prune
        _diff_map(f, Address(base.model, base.version, f.name), want, have, prune, reasons, changes, notes)
        return
    if f.file_key in wanted:  # a scalar the file omits is left alone
        want, have = f.dump(wanted[f.file_key]), f.dump(f.live(live))
        if want != have:
            changes.append(
                Change(Address(base.model, base.version, f.name), Action.UPDATE, have, want, reasons.get(None))
            )


def _diff_map(
    f: Field,
    base: Address,
    want: Mapping[str, Any],
    have: Mapping[str, Any],
    prune: bool,
    reasons: Mapping[Any, str],
    changes: list[Change],
    notes: list[Note],
) -> None:
    """Keyed entries: pair by key, then create / update / remove-or-report. A wanted value of None
    means the entry must not exist (a policy says so)."""
    for key in sorted(set(want) | set(have)):
        address = Address(base.model, base.version, base.field, key)
        before = f.dump(have[key]) if key in have else None
        after = f.dump(want[key]) if want.get(key) is not None else None
        if key not in want:
            if prune:
                changes.append(Change(address, Action.DELETE, before, None, PRUNE))
            else:
                notes.append(Note(address, f"in the registry, not in the file (= {before!r}); {_unless(f)}"))
        elif after is None:
            if before is not None:
                changes.append(Change(address, Action.DELETE, before, None, reasons.get(key)))
        elif before is None:
            changes.append(Change(address, Action.CREATE, None, after, reasons.get(key)))
        elif before != after:
            changes.append(Change(address, Action.UPDATE, before, after, reasons.get(key)))


def _unless(f: Field) -> str:
    return f"left alone unless policy.prune.{f.prune} opts in" if f.prune else "left alone"


__all__ = ["MODEL", "UNMANAGED_MODEL", "build_plan", "diff_model"]
