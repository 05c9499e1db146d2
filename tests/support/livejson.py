"""Golden live state: a compact JSON form -> the REST JSON MLflow serves -> LiveState, through the
same field readers the real reader uses (reconciler/registry/live.py)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from reconciler.fields import FIELDS, Level
from reconciler.registry.live import assemble, version_from_json
from reconciler.state import LiveModel, LiveState, Run, frozen_map

# Fields that read themselves (not part of MLflow's model JSON): live.json gives them in the file's form.
_FETCHED = tuple(f for f in FIELDS if f.level is Level.MODEL and f.fetch is not None)


def _tags(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in tags.items()]


def rest_model(name: str, m: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "description": m.get("description", ""),
        "tags": _tags(m.get("tags", {})),
        "aliases": [{"alias": a, "version": str(n)} for a, n in m.get("aliases", {}).items()],
    }


def rest_version(name: str, n: str, v: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "version": n,
        "current_stage": v.get("stage", "None"),
        "description": v.get("description", ""),
        "tags": _tags(v.get("tags", {})),
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
    fetched = {f.file_key: f.typed(compact[f.file_key]) for f in _FETCHED if f.file_key in compact}
    return replace(model, values={**model.values, **fetched}) if fetched else model
