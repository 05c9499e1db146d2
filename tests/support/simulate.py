"""A plan applied to a LiveState in memory, with MLflow's semantics (an alias points at one version
and setting it moves it; a stage transition with archive_existing_versions=False touches only its
version). The property tests compare it with the real server in tests/integration. Each change goes
through its field's declaration (the registry's empty values, how a file value becomes typed), so
this module knows a field only where a helper below names one for a test to set."""

from __future__ import annotations

from typing import Any

from reconciler import fields
from reconciler.fields import CREATED_WITH, Level
from reconciler.fields.permissions import Grant
from reconciler.plan.values import MODEL, Action, Change, Plan
from reconciler.state import LiveModel, LiveState, LiveVersion, Stage, frozen_map


def _entry(values: dict[str, Any], c: Change) -> None:
    f = c.address.declaration()
    if c.address.key is None:
        values[f.file_key] = f.parse(c.after)
        return
    entries = dict(f.live(values))
    if c.action is Action.DELETE:
        entries.pop(c.address.key, None)
    else:
        entries[c.address.key] = f.parse(c.after)
    values[f.file_key] = frozen_map(entries)


def apply(plan: Plan, live: LiveState) -> LiveState:
    models = dict(live.models)
    for c in plan.changes:
        a = c.address
        if a.field == MODEL:
            values = _empty(Level.MODEL)
            values[CREATED_WITH.file_key] = CREATED_WITH.parse(c.after or CREATED_WITH.empty)
            models[a.model] = LiveModel(a.model, values)
            continue
        model = models[a.model]
        if a.version is None:
            values = dict(model.values)
            _entry(values, c)
            models[a.model] = LiveModel(model.name, values, model.versions, model.reserved_tags)
        else:
            v = model.versions[a.version]
            values = dict(v.values)
            _entry(values, c)
            versions = {**model.versions, a.version: LiveVersion(v.number, values, v.reserved_tags, v.run_id, v.status)}
            models[a.model] = LiveModel(model.name, model.values, frozen_map(versions), model.reserved_tags)
    return LiveState(frozen_map(models), live.runs)


def _empty(level: Level) -> dict[str, Any]:
    """What the registry holds of a new entity: each registry-read field's empty value."""
    return {f.file_key: f.empty for f in fields.native(level)}


def live_model(
    name: str,
    stages: list[Stage],
    aliases: dict[str, int],
    tags: dict[str, str],
    grants: dict[str, str] | None = None,
    description: str = "",
    version_tags: dict[str, str] | None = None,
    statuses: list[str] | None = None,
) -> LiveModel:
    """A live model whose versions 1..n have `stages` (and, each, `description` and `version_tags`;
    `statuses`, MLflow's registration status of each, READY when not given)."""
    versions = {
        n: LiveVersion(
            n,
            {**_empty(Level.VERSION), "stage": s, "description": description, "tags": frozen_map(version_tags)},
            status=statuses[n - 1] if statuses else "READY",
        )
        for n, s in enumerate(stages, start=1)
    }
    values = {
        **_empty(Level.MODEL),
        "description": description,
        "tags": frozen_map(tags),
        "aliases": frozen_map(aliases),
    }
    if grants is not None:  # read only for files that set permissions
        values["permissions"] = frozen_map({u: Grant(g) for u, g in grants.items()})
    return LiveModel(name, values, frozen_map(versions))
