"""Golden live state: a compact JSON form -> the REST JSON MLflow serves -> LiveState, through the
same field readers the real reader uses (reconciler/live.py)."""

from __future__ import annotations

from typing import Any

from reconciler.live import assemble, version_from_json
from reconciler.state import LiveState, Run, frozen_map


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
    return LiveState(state.models, frozen_map(runs))
