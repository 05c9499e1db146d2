"""The model file's `monitoring:` section: its JSON Schema fragment, the typed value
(reconciler.state.Monitoring) and the checks a schema cannot make. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.fields.fragments import ALIAS_NAME
from reconciler.files.pins import pin_problem
from reconciler.state import DesiredModel, HealthRule, Monitoring, Threshold

METRIC: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "maxLength": 250,
    "pattern": r"^(?!.*\n)[A-Za-z0-9_./ :-]+$",
    "description": "A metric the production runs log (reconciler.monitoring.log): samples, prediction_mean, "
    "accuracy, mae, rmse, r2, psi_max, ks_max, psi.<feature>, ks.<feature>, or your own.",
}


def _threshold() -> dict[str, Any]:
    rules = [r.value for r in HealthRule]
    return {
        "description": "One rule on one production metric, averaged over the window (weighted by samples): "
        "at_least, at_most, or no_worse_than_replaced_by (against the version the served one replaced, over the "
        "same window; higher is better unless lower_is_better). Exactly one rule.",
        "type": "object",
        "additionalProperties": False,
        "required": ["metric"],
        "properties": {
            "metric": METRIC,
            "at_least": {"type": "number"},
            "at_most": {"type": "number"},
            "no_worse_than_replaced_by": {"type": "number", "minimum": 0},
            "lower_is_better": {"type": "boolean"},
        },
        "oneOf": [{"required": [r]} for r in rules],
    }


def monitoring_schema() -> dict[str, Any]:
    return {
        "description": "Production health of the served version (`reconciler health`): which alias serves, the "
        "window (hours, or the last N runs), the fewest samples to judge (fewer: unknown), the thresholds; "
        "rollback: true lets `reconciler github propose-rollback` propose moving the alias back on a breach.",
        "type": "object",
        "additionalProperties": False,
        "required": ["alias", "window", "metrics"],
        "properties": {
            "alias": ALIAS_NAME,
            "window": {
                "type": "object",
                "additionalProperties": False,
                "minProperties": 1,
                "maxProperties": 1,
                "properties": {
                    "hours": {"type": "number", "exclusiveMinimum": 0, "maximum": 24 * 366},
                    "runs": {"type": "integer", "minimum": 1, "maximum": 10000},
                },
            },
            "min_samples": {"type": "integer", "minimum": 1},
            "metrics": {"type": "array", "minItems": 1, "items": _threshold()},
            "rollback": {"type": "boolean"},
        },
    }


def monitoring(doc: Mapping[str, Any] | None) -> Monitoring | None:
    if not doc:
        return None
    window = doc["window"]
    return Monitoring(
        alias=doc["alias"],
        thresholds=tuple(_typed(t) for t in doc["metrics"]),
        window_hours=float(window["hours"]) if "hours" in window else None,
        window_runs=window.get("runs"),
        min_samples=doc.get("min_samples", 1),
        rollback=doc.get("rollback", False),
    )


def _typed(t: Mapping[str, Any]) -> Threshold:
    rule = next(r for r in HealthRule if r.value in t)
    return Threshold(t["metric"], rule, float(t[rule.value]), bool(t.get("lower_is_better", False)))


def monitoring_document(m: Monitoring | None) -> dict[str, Any]:
    if m is None:
        return {}
    doc: dict[str, Any] = {"alias": m.alias}
    doc["window"] = {"hours": m.window_hours} if m.window_hours is not None else {"runs": m.window_runs}
    if m.min_samples != 1:
        doc["min_samples"] = m.min_samples
    doc["metrics"] = [
        {"metric": t.metric, t.rule.value: t.value, **({"lower_is_better": True} if t.lower_is_better else {})}
        for t in m.thresholds
    ]
    if m.rollback:
        doc["rollback"] = True
    return doc


def check(m: DesiredModel) -> str | None:
    """`monitoring.alias` must be an alias the file sets: health judges what the file serves."""
    return None if m.monitoring is None else pin_problem(m, "monitoring", {"alias": m.monitoring.alias})
