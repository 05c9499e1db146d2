"""JSON Schema of the review policy (models/_policy.yaml) and of a model file's `review:` block.

`schemas/policy.schema.json` is `build()`'s output, committed for editors and other tools;
`python -m reconciler.governance.policyschema --write` regenerates it and a test fails when it is out of date.
Rules a schema says badly (exactly one rule per gate; finite numbers) are checked when the typed
values are built (reconciler/governance/policy.py), with messages that say what to do.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from reconciler.fields.fragments import ALIAS_NAME, OWNER

SCHEMA_ID = "https://mlflow-registry-gitops.dev/schemas/policy.schema.json"
SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "policy.schema.json"
MODEL_OWNERS = "model-owners"
MAX_APPROVALS = 50
# MLflow's metric names: letters, digits, _ - . / : and spaces (ASCII here, as for tag keys).
METRIC_NAME: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "maxLength": 250,
    "pattern": r"^(?!.*\n)[A-Za-z0-9_./ :-]+$",
    "description": "A metric of the version's training run, as MLflow names it.",
}
PROTECTED_STAGES = ["Staging", "Production"]


def _from() -> dict[str, Any]:
    return {
        "description": f'Who may approve: "{MODEL_OWNERS}" (the model file\'s owners on the base branch), '
        'a GitHub login (alice, or @alice for a user literally named model-owners), or a team ("@org/team").',
        "type": "array",
        "minItems": 1,
        "uniqueItems": True,
        "items": {"anyOf": [{"const": MODEL_OWNERS}, OWNER]},
    }


def _approvals(minimum: int) -> dict[str, Any]:
    return {
        "description": "How many approvals, from different reviewers in `from`, the change needs.",
        "type": "integer",
        "minimum": minimum,
        "maximum": MAX_APPROVALS,
    }


def gate() -> dict[str, Any]:
    return {
        "description": "One rule on one metric of the candidate version's training run: at_least, at_most, or "
        "no_worse_than_current_by (against the version that holds the alias or stage now; higher is better "
        "unless lower_is_better). Give exactly one rule per gate. A missing run or metric fails the gate.",
        "type": "object",
        "additionalProperties": False,
        "required": ["metric"],
        "properties": {
            "metric": METRIC_NAME,
            "at_least": {"type": "number"},
            "at_most": {"type": "number"},
            "no_worse_than_current_by": {"type": "number", "minimum": 0},
            "lower_is_better": {"type": "boolean", "description": "For no_worse_than_current_by: a loss."},
        },
    }


def _changes() -> dict[str, Any]:
    return {
        "description": "What any change to a model file needs.",
        "type": "object",
        "additionalProperties": False,
        "properties": {"approvals": _approvals(0), "from": _from()},
    }


def _protected() -> dict[str, Any]:
    return {
        "description": "Moves of these aliases (create, update, delete) and stages (into or out of) need these "
        "approvals too, and the candidate version must pass the gates.",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "aliases": {"type": "array", "uniqueItems": True, "items": ALIAS_NAME},
            "stages": {"type": "array", "uniqueItems": True, "items": {"enum": PROTECTED_STAGES}},
            "approvals": _approvals(1),
            "from": _from(),
            "gates": {"type": "array", "items": gate()},
        },
    }


def review_block() -> dict[str, Any]:
    """A model file's `review:`: the same shape as the policy's tiers, and it may only tighten them."""
    return {
        "description": "Stricter review rules for this model than models/_policy.yaml: more approvals, fewer "
        "approvers (a subset of the policy's `from`), more protected aliases and stages, more gates. "
        "Anything that loosens the policy is an error. Judged from the base branch's version of this file.",
        "type": "object",
        "additionalProperties": False,
        "properties": {"changes": _changes(), "protected": _protected()},
    }


def build() -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Review policy (models/_policy.yaml)",
        "description": "Who must approve a pull request that changes models/, and which metric gates a "
        "protected promotion must pass. Pull requests are judged by this file as it is on their base branch.",
        "type": "object",
        "additionalProperties": False,
        "required": ["owners"],
        "properties": {
            "owners": {
                "description": "Who approves changes to this file and new model files: GitHub logins or @org/teams.",
                "type": "array",
                "minItems": 1,
                "uniqueItems": True,
                "items": OWNER,
            },
            "changes": _changes(),
            "protected": _protected(),
            "smoke": {
                "description": "The smoke test of protected moves (a model file's `smoke:`). require_example: a "
                "version with neither a logged input example nor a declared sample fails instead of being "
                "reported as not tested.",
                "type": "object",
                "additionalProperties": False,
                "properties": {"require_example": {"type": "boolean"}},
            },
        },
    }


def text() -> str:
    return json.dumps(build(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        SCHEMA_PATH.write_text(text(), encoding="utf-8")
    else:
        sys.stdout.write(text())
