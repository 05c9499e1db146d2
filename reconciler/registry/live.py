"""The registry's JSON (the shape of MLflow's REST API) -> typed live state, through the field
declarations. Pure: the readers in reconciler/registry/reader.py fetch the JSON."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from reconciler.fields import FIELDS, Level
from reconciler.files import modelnames
from reconciler.state import AUDIT_NAMESPACE, LiveModel, LiveState, LiveVersion, frozen_map

_MODEL_FIELDS = tuple(f for f in FIELDS if f.level is Level.MODEL and f.source == "registry")
_VERSION_FIELDS = tuple(f for f in FIELDS if f.level is Level.VERSION and f.source == "registry")


def reserved_model(name: str) -> bool:
    """Registered models the reconciler keeps for itself (its lock): never planned or reported.
    Other `gitops.*` models are read, and reported as models no file can hold (modelnames)."""
    return modelnames.reserved(name)


def _reserved_tags(raw: Mapping[str, Any]) -> Mapping[str, str]:
    return frozen_map(
        {t["key"]: t.get("value", "") for t in raw.get("tags", ()) if t["key"].startswith(AUDIT_NAMESPACE)}
    )


def version_from_json(raw: Mapping[str, Any]) -> LiveVersion:
    return LiveVersion(
        number=int(raw["version"]),
        values={f.file_key: f.read(raw) for f in _VERSION_FIELDS},
        reserved_tags=_reserved_tags(raw),
        run_id=raw.get("run_id") or None,
        status=raw.get("status") or "READY",
    )


def model_from_json(raw: Mapping[str, Any], versions: Iterable[LiveVersion] = ()) -> LiveModel:
    return LiveModel(
        name=raw["name"],
        values={f.file_key: f.read(raw) for f in _MODEL_FIELDS},
        versions=frozen_map({v.number: v for v in versions}),
        reserved_tags=_reserved_tags(raw),
    )


def assemble(raw_models: Iterable[Mapping[str, Any]], versions: Iterable[tuple[str, LiveVersion]]) -> LiveState:
    by_model: dict[str, list[LiveVersion]] = {}
    for name, v in versions:
        by_model.setdefault(name, []).append(v)
    models = {
        m["name"]: model_from_json(m, by_model.get(m["name"], ())) for m in raw_models if not reserved_model(m["name"])
    }
    return LiveState(frozen_map(models))


def _values_json(level: Level, values: Mapping[str, Any]) -> dict[str, Any]:
    return {f.file_key: f.document(values[f.file_key]) for f in FIELDS if f.level is level and f.file_key in values}


def model_json(m: LiveModel) -> dict[str, Any]:
    """The parts of a live model the reconciler manages, as plain JSON (audit records excluded)."""
    doc = _values_json(Level.MODEL, m.values)
    doc["versions"] = {str(n): _values_json(Level.VERSION, v.values) for n, v in sorted(m.versions.items())}
    return doc


def fingerprint(live: LiveState, names: Iterable[str]) -> str:
    """A hash of the live state of the named models; a saved plan is only valid while it holds."""
    body = {name: (model_json(live.models[name]) if name in live.models else None) for name in sorted(names)}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()
