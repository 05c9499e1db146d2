"""Writing the audit records an apply owes, from its own results or, later, from its journal entry.

Only the journal says what the reconciler did: an apply whose audit writes failed left an entry
listing the entities without a record; an apply that died mid-way left an entry still
`applying`, with its intended changes. A later apply completes those (marked `recorded_late`,
and `recovered` for an interrupted one, whose changes are credited only where the registry holds
exactly what the apply intended). A change the registry shows but no journal entry intended is
never credited to anyone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from reconciler.apply.audit import AUDIT_TAG, Audit, entity_record, read_record
from reconciler.apply.journal import APPLYING, FOUND, NOT_FOUND, Entity, Entry, Journal
from reconciler.apply.writer import Applier, Result
from reconciler.plan.values import MODEL, Action, Address, Change
from reconciler.state import LiveState, frozen_map


def by_entity(changes: Iterable[Change]) -> dict[Entity, list[Change]]:
    """Aliases live on the registered model, so their record does too."""
    out: dict[Entity, list[Change]] = {}
    for c in changes:
        out.setdefault((c.address.model, c.address.version), []).append(c)
    return out


def _current(live: LiveState, entity: Entity) -> dict | None:
    model, version = entity
    m = live.models.get(model)
    if m is None:
        return None
    tags = m.reserved_tags if version is None else (m.versions[version].reserved_tags if version in m.versions else {})
    return read_record(tags.get(AUDIT_TAG))


def _record_change(entity: Entity, value: str) -> Change:
    return Change(Address(entity[0], entity[1], "tag", AUDIT_TAG), Action.UPDATE, None, value)


def write_records(
    applier: Applier,
    audit: Audit,
    run_id: str,
    changes: Mapping[Entity, Sequence[Change]],
    live: LiveState,
    flags: Mapping[str, bool] | None = None,
) -> tuple[Result, ...]:
    """One record per entity; each names the record it replaces. A record newer than this one is
    kept as it is (the journal has both)."""
    writes = []
    for entity, cs in changes.items():
        current = _current(live, entity)
        if current is not None and str(current.get("applied_at", "")) > audit.applied_at:
            continue
        previous = current.get("run") if current else None
        writes.append(_record_change(entity, entity_record(audit, run_id, cs, previous, flags)))
    return tuple(applier.run(writes))


def unrecorded(records: Iterable[Result]) -> list[Entity]:
    return [(r.change.address.model, r.change.address.version) for r in records if not r.ok]


def with_records(live: LiveState, records: Iterable[Result]) -> LiveState:
    """`live` as the registry holds it once `records` are written: the record a later one replaces
    is the one just written, without reading the registry again."""
    written = [r for r in records if r.ok and r.change.after is not None]
    if not written:
        return live
    models = dict(live.models)
    for r in written:
        m = models.get(r.change.address.model)
        if m is None:
            continue
        version = r.change.address.version
        if version is None:
            models[m.name] = replace(m, reserved_tags=frozen_map({**m.reserved_tags, AUDIT_TAG: r.change.after}))
        elif version in m.versions:
            v = m.versions[version]
            v = replace(v, reserved_tags=frozen_map({**v.reserved_tags, AUDIT_TAG: r.change.after}))
            models[m.name] = replace(m, versions=frozen_map({**m.versions, version: v}))
    return replace(live, models=frozen_map(models))


@dataclass(frozen=True)
class Recovered:
    entry: Entry
    written: int
    missing: tuple[Entity, ...]
    records: tuple[Result, ...] = ()  # its audit-record writes, for with_records


def recover(journal: Journal, applier: Applier, live: LiveState, registry: str) -> list[Recovered]:
    """Complete every open journal entry of this registry, oldest first, so that each record names
    the one it replaces (the journal lists the newest first)."""
    done = []
    for entry in reversed(journal.open_entries()):
        if entry.registry != registry:
            continue
        interrupted = entry.state == APPLYING
        changes = [c for c in entry.changes if holds(c, live)] if interrupted else entry.applied()
        owed = by_entity(changes)
        if not interrupted:
            owed = {e: cs for e, cs in owed.items() if e in set(entry.unrecorded)}
        flags = {"recorded_late": True, **({"recovered": True} if interrupted else {})}
        results = write_records(applier, entry.audit, entry.run_id, owed, live, flags)
        missing = tuple(unrecorded(results))
        found = {i: FOUND if holds(c, live) else NOT_FOUND for i, c in enumerate(entry.changes)} if interrupted else {}
        journal.settle(entry, missing, interrupted, found)
        done.append(Recovered(entry, len(results) - len(missing), missing, results))
        live = with_records(live, results)
    return done


def holds(c: Change, live: LiveState) -> bool:
    """Whether the registry holds exactly what the change intended."""
    a = c.address
    model = live.models.get(a.model)
    if a.field == MODEL or model is None:
        return model is not None
    entity = model if a.version is None else model.versions.get(a.version)
    if entity is None:
        return False
    f = a.declaration()
    value = f.live(entity.values)
    if a.key is None:
        return f.dump(value) == c.after
    if c.action is Action.DELETE:
        return a.key not in value
    return a.key in value and f.dump(value[a.key]) == c.after
