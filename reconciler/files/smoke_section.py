"""The model file's `smoke:` section: its JSON Schema fragment and the typed value (SmokeSettings,
in reconciler.state). Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.state import SmokeSettings


def smoke_schema() -> dict[str, Any]:
    return {
        "description": "The smoke test a version must pass before it gains a protected alias or stage: its logged "
        "input example (serving_input_example.json) or `sample` scored through MLflow's scoring path and checked "
        "against its signature. On by default; `enabled: false` opts out (the pull request's comment says so). "
        "Read from the base branch's version of this file.",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "enabled": {"type": "boolean"},
            "sample": {
                "description": "A scoring-server JSON payload (dataframe_split, dataframe_records, instances or "
                "inputs), relative to the repository root, scored instead of the logged example.",
                "type": "string",
                "minLength": 1,
                "maxLength": 500,
                "pattern": r"^(?!/)(?!.*(^|/)\.\.(/|$))[^\n\\]+$",
            },
            "latency_budget_ms": {
                "description": "The scoring call (the model loaded) must take at most this long.",
                "type": "number",
                "exclusiveMinimum": 0,
            },
        },
    }


def smoke_settings(doc: Mapping[str, Any]) -> SmokeSettings:
    budget = doc.get("latency_budget_ms")
    return SmokeSettings(doc.get("enabled", True), doc.get("sample"), None if budget is None else float(budget))


def smoke_document(s: SmokeSettings) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    if not s.enabled:
        doc["enabled"] = False
    if s.sample is not None:
        doc["sample"] = s.sample
    if s.latency_budget_ms is not None:
        doc["latency_budget_ms"] = s.latency_budget_ms
    return doc
