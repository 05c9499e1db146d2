"""The tag fields: a registered model's and a version's user tags (the reconciler's own namespace is never
diffed)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from reconciler.fields import writes
from reconciler.fields.base import Field, Kind, Level, MlflowCheck
from reconciler.fields.fragments import DB_VARCHAR, MODEL_TAG_VALUE, TAG_KEY, VERSION_TAG_VALUE
from reconciler.state import AUDIT_NAMESPACE, frozen_map


def _tags(raw: Mapping[str, Any]) -> Mapping[str, str]:
    """User tags: the reconciler's own namespace (its audit trail) is never diffed."""
    return frozen_map(
        {t["key"]: t.get("value", "") for t in raw.get("tags", ()) if not t["key"].startswith(AUDIT_NAMESPACE)}
    )


def _entity_tags(entity: Any) -> Mapping[str, str]:
    """The same from a store entity, whose tags are a dict (a value the REST JSON omits reads as "")."""
    return frozen_map({k: "" if v is None else v for k, v in entity.tags.items() if not k.startswith(AUDIT_NAMESPACE)})


def _json(tags: Mapping[str, str]) -> dict[str, Any]:
    return {"tags": [{"key": k, "value": v} for k, v in tags.items()]}


def _model_checks(tags: Mapping[str, str]) -> Iterable[MlflowCheck]:
    for key, value in tags.items():
        yield (key,), "_validate_registered_model_tag", (key, value)
        yield (key,), "_validate_length_limit", ("tag value", DB_VARCHAR, value)


def _version_checks(tags: Mapping[str, str]) -> Iterable[MlflowCheck]:
    for key, value in tags.items():
        yield (key,), "_validate_model_version_tag", (key, value)


def _tag_map(value_schema: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": "object", "propertyNames": TAG_KEY, "additionalProperties": value_schema}


def _declare(
    level: Level, schema: Mapping[str, Any], prune: str, checks: Callable[..., Iterable[MlflowCheck]]
) -> Field:
    model = level is Level.MODEL
    return Field(
        name="tag",
        file_key="tags",
        level=level,
        kind=Kind.MAP,
        schema=schema,
        read=_tags,
        write=writes.model_tag if model else writes.version_tag,
        delete=writes.delete_model_tag if model else writes.delete_version_tag,
        prune=prune,
        empty=frozen_map(),
        read_entity=_entity_tags,
        to_json=_json,
        mlflow_checks=checks,
    )


MODEL_TAGS = _declare(
    Level.MODEL,
    {
        **_tag_map(MODEL_TAG_VALUE),
        "description": "Registered model tags. Tags in the registry but not here are reported; "
        "removed only with policy.prune.tags.",
    },
    "tags",
    _model_checks,
)
VERSION_TAGS = _declare(Level.VERSION, _tag_map(VERSION_TAG_VALUE), "version_tags", _version_checks)
