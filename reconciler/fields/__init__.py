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

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from reconciler.fields import permissions, writes
from reconciler.fields.fragments import ALIAS_NAME, DESCRIPTION, MODEL_TAG_VALUE, STAGE, TAG_KEY, VERSION_TAG_VALUE
from reconciler.state import AUDIT_NAMESPACE, Stage, frozen_map


class Level(str, Enum):
    MODEL = "model"
    VERSION = "version"


class Kind(str, Enum):
    SCALAR = "scalar"  # one value: update
    MAP = "map"  # keyed entries: create, update, delete-or-report


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Fetched:
    """What a field's own read returns: the live value per model, and what `verify` needs."""

    values: Mapping[str, Any]
    context: Any = None


@dataclass(frozen=True)
class Field:
    name: str  # in addresses and plans: "description", "tag[team]", "alias[champion]"
    file_key: str  # in models/*.yaml: "description", "tags", "aliases"
    level: Level
    kind: Kind
    schema: Mapping[str, Any]  # JSON Schema of the file value
    read: Callable[[Mapping[str, Any]], Any]  # the entity's registry JSON -> typed live value
    write: Callable[[Any, Any, Any], None]  # (clients, address, value): set or update (one map entry)
    delete: Callable[[Any, Any], None] | None = None  # (clients, address): remove one map entry
    parse: Callable[[Any], Any] = _same  # file value (schema-valid) -> typed value; for maps, per entry
    dump: Callable[[Any], Any] = _same  # typed value -> file value; for maps, per entry
    show: Callable[[Any], str] = repr  # a value as plans show it
    prune: str | None = None  # the policy.prune flag that lets the plan remove unnamed entries
    empty: Any = None  # the live value when the registry has none
    demotes: Callable[[Any], bool] = lambda value: False  # applied last (after promotions): archives
    import_always: bool = False  # import writes it for every listed entity, even when empty
    # A field the model and version searches do not return reads itself: `fetch(session, names)`
    # returns a Fetched for the named models (those whose files set the field, registered yet or
    # not), in a bounded number of calls; `verify(desired_model, live_model_or_None, context)` lists
    # what is wrong with the file given that context (e.g. a grant for a user the server does not
    # know), each problem with its path in the file: [(("permissions", "bob"), "no user ...")].
    fetch: Callable[[Any, Sequence[str]], Fetched] | None = None
    verify: Callable[[Any, Any, Any], list[tuple[tuple[str, ...], str]]] | None = None

    @property
    def source(self) -> str:
        return "registry" if self.fetch is None else self.name

    def live(self, values: Mapping[str, Any]) -> Any:
        return values.get(self.file_key, self.empty)

    def typed(self, file_value: Any) -> Any:
        if self.kind is Kind.MAP:
            if self.parse is _same:  # tags: 20,000 versions' worth on a 1,000-file load
                return frozen_map(file_value)
            return frozen_map({k: self.parse(v) for k, v in file_value.items()})
        return file_value if self.parse is _same else self.parse(file_value)

    def document(self, value: Any) -> Any:
        if self.kind is Kind.MAP:
            return dict(value) if self.dump is _same else {k: self.dump(v) for k, v in value.items()}
        return value if self.dump is _same else self.dump(value)

    def is_empty(self, value: Any) -> bool:
        return value == self.empty or (self.kind is Kind.MAP and not value)


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
