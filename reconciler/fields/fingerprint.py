"""The live state's fingerprint: a hash of the managed fields of the named models, through the field
declarations. Pure; the builder stamps it on a plan, apply compares it under the lock."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from reconciler.fields import Field, Level, at
from reconciler.state import LiveModel, LiveState


def _values_json(declared: tuple[Field, ...], values: Mapping[str, Any]) -> dict[str, Any]:
    return {f.file_key: f.document(values[f.file_key]) for f in declared if f.file_key in values}


def model_json(m: LiveModel) -> dict[str, Any]:
    """The parts of a live model the reconciler manages, as plain JSON (audit records excluded)."""
    doc = _values_json(at(Level.MODEL), m.values)
    version_fields = at(Level.VERSION)
    doc["versions"] = {str(n): _values_json(version_fields, v.values) for n, v in sorted(m.versions.items())}
    return doc


def fingerprint(live: LiveState, names: Iterable[str]) -> str:
    """A hash of the live state of the named models; a saved plan is only valid while it holds."""
    body = {name: (model_json(live.models[name]) if name in live.models else None) for name in sorted(names)}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()
