"""The registry's answers -> typed live state, through the field declarations: MLflow's REST JSON
(an HTTP registry) or MLflow's store entities (a database URI), each field read by its own `read` or
`read_entity`. Pure: the readers in reconciler/registry/reader.py fetch them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from reconciler.fields import Level, native
from reconciler.files import modelnames
from reconciler.state import AUDIT_NAMESPACE, LiveModel, LiveState, LiveVersion, frozen_map

if TYPE_CHECKING:
    from mlflow.entities.model_registry import ModelVersion, RegisteredModel

Raw = TypeVar("Raw")


def reserved_model(name: str) -> bool:
    """Registered models the reconciler keeps for itself (its lock): never planned or reported.
    Other `gitops.*` models are read, and reported as models no file can hold (modelnames)."""
    return modelnames.reserved(name)


def _reserved_tags(raw: Mapping[str, Any]) -> Mapping[str, str]:
    """The reconciler's own tags (its audit record), which no field diffs."""
    return frozen_map(
        {t["key"]: t.get("value", "") for t in raw.get("tags", ()) if t["key"].startswith(AUDIT_NAMESPACE)}
    )


def _reserved_entity_tags(tags: Mapping[str, Any]) -> Mapping[str, str]:
    return frozen_map({k: "" if v is None else v for k, v in tags.items() if k.startswith(AUDIT_NAMESPACE)})


def version_from_json(raw: Mapping[str, Any]) -> LiveVersion:
    return LiveVersion(
        number=int(raw["version"]),
        values={f.file_key: f.read(raw) for f in native(Level.VERSION)},
        reserved_tags=_reserved_tags(raw),
        run_id=raw.get("run_id") or None,
        status=raw.get("status") or "READY",
    )


def version_from_entity(v: ModelVersion) -> LiveVersion:
    """An `mlflow.entities.model_registry.ModelVersion`, read as its REST JSON would be."""
    return LiveVersion(
        number=int(v.version),
        values={f.file_key: f.read_entity(v) for f in native(Level.VERSION) if f.read_entity is not None},
        reserved_tags=_reserved_entity_tags(v.tags),
        run_id=v.run_id or None,
        status=str(v.status or "READY"),
    )


def model_from_json(raw: Mapping[str, Any], versions: Iterable[LiveVersion] = ()) -> LiveModel:
    return LiveModel(
        name=raw["name"],
        values={f.file_key: f.read(raw) for f in native(Level.MODEL)},
        versions=frozen_map({v.number: v for v in versions}),
        reserved_tags=_reserved_tags(raw),
    )


def model_from_entity(m: RegisteredModel, versions: Iterable[LiveVersion] = ()) -> LiveModel:
    """An `mlflow.entities.model_registry.RegisteredModel`, read as its REST JSON would be."""
    return LiveModel(
        name=m.name,
        values={f.file_key: f.read_entity(m) for f in native(Level.MODEL) if f.read_entity is not None},
        versions=frozen_map({v.number: v for v in versions}),
        reserved_tags=_reserved_entity_tags(m.tags),
    )


def assemble(raw_models: Iterable[Mapping[str, Any]], versions: Iterable[tuple[str, LiveVersion]]) -> LiveState:
    """Models as REST JSON, with their versions (already read) by model name."""
    return _assemble(((m["name"], m) for m in raw_models), versions, model_from_json)


def assemble_entities(models: Iterable[RegisteredModel], versions: Iterable[tuple[str, LiveVersion]]) -> LiveState:
    """Models as store entities, with their versions (already read) by model name."""
    return _assemble(((m.name, m) for m in models), versions, model_from_entity)


def _assemble(
    models: Iterable[tuple[str, Raw]],
    versions: Iterable[tuple[str, LiveVersion]],
    read: Callable[[Raw, Iterable[LiveVersion]], LiveModel],
) -> LiveState:
    by_model: dict[str, list[LiveVersion]] = {}
    for name, v in versions:
        by_model.setdefault(name, []).append(v)
    return LiveState(
        frozen_map({name: read(m, by_model.get(name, ())) for name, m in models if not reserved_model(name)})
    )
