"""Golden live state: a compact JSON form (each field in its file form) -> the REST JSON MLflow serves
-> LiveState, through the same field readers the real reader uses (reconciler/registry/live.py). The
REST JSON comes from the field declarations (`Field.to_json`), so this module knows no field."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from reconciler import fields
from reconciler.fields import Field, Level
from reconciler.registry.live import assemble, version_from_json
from reconciler.state import LiveModel, LiveState, Run, frozen_map


def rest_json(declared: Iterable[Field], compact: Mapping[str, Any]) -> dict[str, Any]:
    """The part of an entity's REST JSON the registry-read fields make of their compact values (the
    registry's empty value when absent); fields that share a JSON list (tags) each add their items."""
    out: dict[str, Any] = {}
    for f in declared:
        assert f.to_json is not None, f"{f.name}: a registry field without to_json"
        value = f.typed(compact[f.file_key]) if f.file_key in compact else f.empty
        for key, part in f.to_json(value).items():
            if isinstance(part, list) and isinstance(out.get(key), list):
                out[key] = [*out[key], *part]
            else:
                out[key] = part
    return out


def rest_model(name: str, m: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, **rest_json(fields.native(Level.MODEL), m)}


def rest_version(name: str, n: str, v: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "version": n,
        **rest_json(fields.native(Level.VERSION), v),
        "run_id": v.get("run_id"),
        "status": v.get("status", "READY"),
    }


def live_from_json(data: dict[str, Any]) -> LiveState:
    models = [rest_model(name, m) for name, m in data["models"].items()]
    versions = [
        (name, version_from_json(rest_version(name, n, v)))
        for name, m in data["models"].items()
        for n, v in m.get("versions", {}).items()
    ]
    state = assemble(models, versions)
    runs = {r: Run(s["status"], frozen_map(s.get("metrics", {}))) for r, s in data.get("runs", {}).items()}
    live = {name: _with_fetched(m, data["models"][name]) for name, m in state.models.items()}
    return LiveState(frozen_map(live), frozen_map(runs))


def _with_fetched(model: LiveModel, compact: dict[str, Any]) -> LiveModel:
    """Fields that read themselves (not part of MLflow's model JSON): live.json gives them in the file's form."""
    declared = [f for f in fields.at(Level.MODEL) if f.fetch is not None and f.file_key in compact]
    fetched = {f.file_key: f.typed(compact[f.file_key]) for f in declared}
    return replace(model, values={**model.values, **fetched}) if fetched else model
