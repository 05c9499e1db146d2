"""Where the field declarations sit in the model file's JSON Schema, the one home of that layout:
model fields beside `name` and `owners`, version fields under `versions`, prune flags under
`policy.prune`. `schemagen` places them to write schemas/model.schema.json; `schemacheck` places the
table in force into that file's schema, so a declaration `fields.registered()` adds is checked too."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.fields import Level, at, prune_flags


def _properties(level: Level) -> dict[str, Any]:
    return {f.file_key: f.schema for f in at(level)}


def place(schema: Mapping[str, Any]) -> dict[str, Any]:
    """`schema` (a model-file schema, with or without field entries) with the table's fields in place;
    model fields go right before `versions`. The input is not changed."""
    model = _properties(Level.MODEL)
    properties: dict[str, Any] = {}
    for key, value in schema["properties"].items():
        if key in model:
            continue  # placed again below, from the table
        if key == "versions":
            properties.update(model)
            version = {**value["additionalProperties"], "properties": _properties(Level.VERSION)}
            value = {**value, "additionalProperties": version}
        elif key == "policy":
            prune = {
                **value["properties"]["prune"],
                "properties": {flag: {"type": "boolean"} for flag in prune_flags()},
            }
            value = {**value, "properties": {**value["properties"], "prune": prune}}
        properties[key] = value
    return {**schema, "properties": properties}
