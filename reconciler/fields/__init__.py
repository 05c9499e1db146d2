"""The managed fields: one declaration each. The engine (loader, planner, reader, applier,
importer, renderer) is driven by this table, the way a provider's schema drives Terraform.

A declaration says where the field lives (registered model or model version), its JSON Schema
fragment in the file, how its file value becomes a typed value and back, how it is read from
the registry's JSON, how it is written, and how it diffs (a scalar, or a map whose entries the
registry may hold without the file naming them: reported, or pruned when `policy.prune` opts in).

Each family declares its fields in its own module (`descriptions`, `tags`, `aliases`, `stages`,
`permissions`); this module assembles them. Adding a field: its family module (or a new one) with its
`Field(...)` and read and write functions, its place in `FIELDS`, and a golden case; ARCHITECTURE.md
("Adding a field") lists the files that still know fields by name.
"""

from __future__ import annotations

from reconciler.fields.aliases import ALIASES
from reconciler.fields.base import Fetched, Field, Kind, Level
from reconciler.fields.descriptions import MODEL_DESCRIPTION, VERSION_DESCRIPTION
from reconciler.fields.permissions import PERMISSIONS
from reconciler.fields.stages import STAGE_FIELD
from reconciler.fields.tags import MODEL_TAGS, VERSION_TAGS

__all__ = [
    "ALIASES",
    "FIELDS",
    "MODEL_DESCRIPTION",
    "MODEL_TAGS",
    "PERMISSIONS",
    "STAGE_FIELD",
    "VERSION_DESCRIPTION",
    "VERSION_TAGS",
    "Fetched",
    "Field",
    "Kind",
    "Level",
    "at",
    "named",
    "prune_flags",
]


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
