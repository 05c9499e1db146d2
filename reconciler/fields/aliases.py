"""The alias field: a registered model's aliases, each naming a version."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.fields import writes
from reconciler.fields.base import Field, Kind, Level
from reconciler.fields.fragments import ALIAS_NAME
from reconciler.state import frozen_map


def _aliases(raw: Mapping[str, Any]) -> Mapping[str, int]:
    return frozen_map({a["alias"]: int(a["version"]) for a in raw.get("aliases", ())})


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
