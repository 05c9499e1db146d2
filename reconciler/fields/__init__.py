"""The managed fields: one declaration each. The engine (loader, planner, reader, applier,
importer, renderer, review policy) is driven by this table, the way a provider's schema drives Terraform.

A declaration (`base.Field`) says where the field lives (registered model or model version), its JSON
Schema fragment in the file, how its file value becomes a typed value and back, how it is read from
the registry (MLflow's REST JSON and MLflow's store entities) and how it sits in that JSON, how it is
written, which of MLflow's validators check it, whether governance may protect it, and how it diffs (a
scalar, or a map whose entries the registry may hold without the file naming them: reported, or pruned
when `policy.prune` opts in).

Each family declares its fields in its own module (`descriptions`, `tags`, `aliases`, `stages`,
`permissions`); this module assembles them in `FIELDS`. The engine reads the table through `table()`,
`at()` and `native()` when it runs, never a copy taken at import, so `registered()` (the seam a test
uses to declare a field of its own) reaches every part. ARCHITECTURE.md ("Adding a field") lists the
files a new field touches.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from reconciler.fields.aliases import ALIASES
from reconciler.fields.base import Fetched, Field, Kind, Level, MlflowCheck
from reconciler.fields.descriptions import MODEL_DESCRIPTION, VERSION_DESCRIPTION
from reconciler.fields.permissions import PERMISSIONS
from reconciler.fields.stages import STAGE_FIELD
from reconciler.fields.tags import MODEL_TAGS, VERSION_TAGS

__all__ = [
    "ALIASES",
    "CREATED_WITH",
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
    "MlflowCheck",
    "at",
    "named",
    "native",
    "prune_flags",
    "registered",
    "revision",
    "table",
]


# The shipped declarations. The order here is the order of a model's changes in plans and within an
# apply wave.
FIELDS: tuple[Field, ...] = (
    STAGE_FIELD,
    ALIASES,
    MODEL_DESCRIPTION,
    VERSION_DESCRIPTION,
    MODEL_TAGS,
    VERSION_TAGS,
    PERMISSIONS,
)
# The field a registered model is created with (MLflow's create_registered_model takes its description).
CREATED_WITH = MODEL_DESCRIPTION

_active: tuple[Field, ...] = FIELDS
_revision = 0


def _views(table: tuple[Field, ...]) -> dict[Level, tuple[tuple[Field, ...], tuple[Field, ...]]]:
    """Per level: its fields, and those of them the registry's searches return (read 20,000 times a plan)."""
    return {
        level: (
            tuple(f for f in table if f.level is level),
            tuple(f for f in table if f.level is level and f.fetch is None),
        )
        for level in Level
    }


_by_level = _views(_active)


def table() -> tuple[Field, ...]:
    """Every declaration in force: `FIELDS`, and those `registered()` adds, in that order."""
    return _active


def revision() -> int:
    """Changes whenever the table does, for caches built from it (the schema)."""
    return _revision


def at(level: Level) -> tuple[Field, ...]:
    return _by_level[level][0]


def native(level: Level) -> tuple[Field, ...]:
    """The fields at `level` that MLflow's model and version searches return (those without a `fetch`)."""
    return _by_level[level][1]


def named(name: str, on_version: bool) -> Field:
    """The declaration behind an address's field name (KeyError for names no declaration has)."""
    level = Level.VERSION if on_version else Level.MODEL
    for f in _active:
        if f.name == name and f.level is level:
            return f
    raise KeyError(f"{name} on a {'model version' if on_version else 'registered model'}")


def prune_flags() -> tuple[str, ...]:
    return tuple(sorted({f.prune for f in _active if f.prune}))


@contextmanager
def registered(*extra: Field) -> Iterator[None]:
    """Declarations added to the table for the duration of a `with` block, then removed: the seam a
    test uses to run a field of its own through load, plan, import and apply
    (tests/integration/test_declared_field.py).
    A product field belongs in `FIELDS`. Not thread-safe: register before the engine runs."""
    before = _active
    grown = (*before, *extra)
    for i in range(len(before), len(grown)):
        f = grown[i]
        if any(o.level is f.level and {o.name, o.file_key} & {f.name, f.file_key} for o in grown[:i]):
            raise ValueError(f"{f.level.value} field {f.name} ({f.file_key}): the table already declares it")
    _set(grown)
    try:
        yield
    finally:
        _set(before)


def _set(fields: tuple[Field, ...]) -> None:
    global _active, _by_level, _revision
    _active = fields
    _by_level = _views(fields)
    _revision += 1
