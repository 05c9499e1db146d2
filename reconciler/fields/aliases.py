"""The alias field: a registered model's aliases, each naming a version."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from reconciler.fields import writes
from reconciler.fields.base import Field, Kind, Level, MlflowCheck
from reconciler.fields.fragments import ALIAS_NAME
from reconciler.state import frozen_map


def _aliases(raw: Mapping[str, Any]) -> Mapping[str, int]:
    return frozen_map({a["alias"]: int(a["version"]) for a in raw.get("aliases", ())})


def _entity_aliases(model: Any) -> Mapping[str, int]:
    return frozen_map({a: int(n) for a, n in (model.aliases or {}).items()})


def _json(aliases: Mapping[str, int]) -> dict[str, Any]:
    return {"aliases": [{"alias": a, "version": str(n)} for a, n in aliases.items()]}


def _checks(aliases: Mapping[str, int]) -> Iterable[MlflowCheck]:
    for alias in aliases:
        yield (alias,), "_validate_model_alias_name", (alias,)
        yield (alias,), "_validate_model_alias_name_reserved", (alias,)


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
    read_entity=_entity_aliases,
    to_json=_json,
    mlflow_checks=_checks,
    guard="aliases",
)
