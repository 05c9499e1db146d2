"""The description fields: a registered model's and a version's Markdown description."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from reconciler.fields import writes
from reconciler.fields.base import Field, Kind, Level, MlflowCheck
from reconciler.fields.fragments import DB_VARCHAR, DESCRIPTION


def _description(raw: Mapping[str, Any]) -> str:
    return raw.get("description") or ""


def _entity_description(entity: Any) -> str:
    return entity.description or ""


def _json(value: str) -> dict[str, Any]:
    return {"description": value}


def _checks(value: str) -> Iterable[MlflowCheck]:
    yield (), "_validate_length_limit", ("description", DB_VARCHAR, value)


MODEL_DESCRIPTION = Field(
    name="description",
    file_key="description",
    level=Level.MODEL,
    kind=Kind.SCALAR,
    schema={**DESCRIPTION, "description": 'Model description (Markdown). Omit to leave it alone; "" clears it.'},
    read=_description,
    write=writes.model_description,
    empty="",
    read_entity=_entity_description,
    to_json=_json,
    mlflow_checks=_checks,
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
    read_entity=_entity_description,
    to_json=_json,
    mlflow_checks=_checks,
)
