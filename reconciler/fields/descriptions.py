"""The description fields: a registered model's and a version's Markdown description."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.fields import writes
from reconciler.fields.base import Field, Kind, Level
from reconciler.fields.fragments import DESCRIPTION


def _description(raw: Mapping[str, Any]) -> str:
    return raw.get("description") or ""


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
