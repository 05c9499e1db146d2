"""The tag fields: a registered model's and a version's user tags (the reconciler's own namespace is never
diffed)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.fields import writes
from reconciler.fields.base import Field, Kind, Level
from reconciler.fields.fragments import MODEL_TAG_VALUE, TAG_KEY, VERSION_TAG_VALUE
from reconciler.state import AUDIT_NAMESPACE, frozen_map


def _tags(raw: Mapping[str, Any]) -> Mapping[str, str]:
    """User tags: the reconciler's own namespace (its audit trail) is never diffed."""
    return frozen_map(
        {t["key"]: t.get("value", "") for t in raw.get("tags", ()) if not t["key"].startswith(AUDIT_NAMESPACE)}
    )


def _tag_map(value_schema: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": "object", "propertyNames": TAG_KEY, "additionalProperties": value_schema}


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
