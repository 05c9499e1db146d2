"""JSON Schema of the review policy (models/_policy.yaml); its tiers share their schema with a model
file's `review:` block (reconciler/files/review.py).

`schemas/policy.schema.json` is `build()`'s output, committed for editors and other tools;
`python -m reconciler.governance.policyschema --write` regenerates it and a test fails when it is out of date.
Rules a schema says badly (exactly one rule per gate; finite numbers) are checked when the typed
values are built (reconciler/governance/policy.py), with messages that say what to do.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from reconciler.fields.fragments import OWNER
from reconciler.files.review import MODEL_OWNERS, changes_schema, protected_schema
from reconciler.files.schematext import schema_text, write_or_print

__all__ = ["MODEL_OWNERS", "SCHEMA_ID", "SCHEMA_PATH", "build", "text"]

SCHEMA_ID = "https://mlflow-registry-gitops.dev/schemas/policy.schema.json"
SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "policy.schema.json"


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
            "changes": changes_schema(),
            "protected": protected_schema(),
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
    return schema_text(build())


if __name__ == "__main__":
    write_or_print(SCHEMA_PATH, text(), sys.argv[1:])
