"""The managed fields: one declaration each. The engine (loader, planner, reader, applier,
importer, renderer) is driven by this table, the way a provider's schema drives Terraform.

A declaration says where the field lives (registered model or model version), its JSON Schema
fragment in the file, how its file value becomes a typed value and back, how it is read from
the registry's JSON, how it is written, and how it diffs (a scalar, or a map whose entries the
registry may hold without the file naming them: reported, or pruned when `policy.prune` opts in).

Adding a field: one `Field(...)` here, its read and write functions, and a golden case; ARCHITECTURE.md
("Adding a field") lists the files that still know fields by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.fields import permissions, writes
from reconciler.fields.base import Fetched, Field, Kind, Level
from reconciler.fields.fragments import ALIAS_NAME, DESCRIPTION, MODEL_TAG_VALUE, STAGE, TAG_KEY, VERSION_TAG_VALUE
from reconciler.state import AUDIT_NAMESPACE, Stage, frozen_map

__all__ = ["FIELDS", "Fetched", "Field", "Kind", "Level", "at", "named", "prune_flags"]


def _tags(raw: Mapping[str, Any]) -> Mapping[str, str]:
    """User tags: the reconciler's own namespace (its audit trail) is never diffed."""
    return frozen_map(
        {t["key"]: t.get("value", "") for t in raw.get("tags", ()) if not t["key"].startswith(AUDIT_NAMESPACE)}
    )


def _aliases(raw: Mapping[str, Any]) -> Mapping[str, int]:
    return frozen_map({a["alias"]: int(a["version"]) for a in raw.get("aliases", ())})


def _description(raw: Mapping[str, Any]) -> str:
    return raw.get("description") or ""


def _tag_map(value_schema: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": "object", "propertyNames": TAG_KEY, "additionalProperties": value_schema}


MODEL_DESCRIPTION = Field(
    name="description",
    file_key="description",
    level=Level.MODEL,
    kind=Kind.SCALAR,
    schema={**DESCRIPTION, "description": 'Model description (Markdown). Omit to leave it alone; "" clears it.'},
    read=_description,
    write=writes.model_description,
    empty="",
)
MODEL_TAGS = Field(
    name="tag",
    file_key="tags",
    level=Level.MODEL,
    kind=Kind.MAP,
    schema={
        **_tag_map(MODEL_TAG_VALUE),
        "description": "Registered model tags. Tags in the registry but not here are reported; "
        "removed only with policy.prune.tags.",
    },
    read=_tags,
    write=writes.model_tag,
    delete=writes.delete_model_tag,
    prune="tags",
    empty=frozen_map(),
)
ALIASES = Field(
    name="alias",
    file_key="aliases",
    level=Level.MODEL,
    kind=Kind.MAP,
    schema={
        "description": "Alias -> version number. Aliases in the registry but not here are reported; "
        "removed only with policy.prune.aliases.",
        "type": "object",
        "propertyNames": ALIAS_NAME,
        "additionalProperties": {"type": "integer", "minimum": 1, "maximum": 2147483647},
    },
    read=_aliases,
    write=writes.alias,
    delete=writes.delete_alias,
    parse=int,
    show=lambda v: f"v{v}",
    prune="aliases",
    empty=frozen_map(),
)
STAGE_FIELD = Field(
    name="stage",
    file_key="stage",
    level=Level.VERSION,
    kind=Kind.SCALAR,
    schema={
        **STAGE,
        "description": "Model-registry stage (deprecated in MLflow since 2.9, still supported). "
        "Omit to leave it alone.",
    },
    read=lambda raw: Stage(raw.get("current_stage") or "None"),
    write=writes.stage,
    parse=Stage,
    dump=lambda s: s.value,
    show=lambda s: repr(Stage(s).value),
    empty=Stage.NONE,
    demotes=lambda s: Stage(s) is Stage.ARCHIVED,
    import_always=True,
)
VERSION_DESCRIPTION = Field(
    name="description",
    file_key="description",
    level=Level.VERSION,
    kind=Kind.SCALAR,
    schema=DESCRIPTION,
    read=_description,
    write=writes.version_description,
    empty="",
)
VERSION_TAGS = Field(
    name="tag",
    file_key="tags",
    level=Level.VERSION,
    kind=Kind.MAP,
    schema=_tag_map(VERSION_TAG_VALUE),
    read=_tags,
    write=writes.version_tag,
    delete=writes.delete_version_tag,
    prune="version_tags",
    empty=frozen_map(),
)
PERMISSIONS = Field(
    name="permission",
    file_key="permissions",
    level=Level.MODEL,
    kind=Kind.MAP,
    schema=permissions.SCHEMA,
    read=permissions.read,
    write=permissions.grant,
    delete=permissions.revoke,
    parse=permissions.Grant,
    dump=lambda g: permissions.Grant(g).value,
    show=lambda g: repr(permissions.Grant(g).value),
    prune="permissions",
    empty=frozen_map(),
    fetch=permissions.fetch,
    verify=permissions.verify,
)

# The order here is the order of a model's changes in plans and within an apply wave.
FIELDS: tuple[Field, ...] = (
    STAGE_FIELD,
    ALIASES,
    MODEL_DESCRIPTION,
    VERSION_DESCRIPTION,
    MODEL_TAGS,
    VERSION_TAGS,
    PERMISSIONS,
)


def at(level: Level) -> tuple[Field, ...]:
    return tuple(f for f in FIELDS if f.level is level)


def named(name: str, on_version: bool) -> Field:
    """The declaration behind an address's field name (KeyError for names no declaration has)."""
    level = Level.VERSION if on_version else Level.MODEL
    for f in FIELDS:
        if f.name == name and f.level is level:
            return f
    raise KeyError(f"{name} on a {'model version' if on_version else 'registered model'}")


def prune_flags() -> tuple[str, ...]:
    return tuple(sorted({f.prune for f in FIELDS if f.prune}))
