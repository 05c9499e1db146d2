"""JSON Schema of a model file's `propose:` section (assembled into schemas/model.schema.json)."""

from __future__ import annotations

from typing import Any

from reconciler.fields.fragments import ALIAS_NAME, TAG_KEY

PROPOSABLE_STAGES = ["Staging"]  # Production is always protected: a proposal never asks for it


def rule_schema() -> dict[str, Any]:
    return {
        "description": "What `reconciler propose MODEL VERSION` (the training pipeline's last step) writes for a "
        "new version: the alias it moves there or the stage it puts it in, and what it copies from the training "
        "run. The result is a pull request; nothing changes in the registry until it is merged. The alias or "
        "stage must not be protected by the review policy.",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "alias": {**ALIAS_NAME, "description": "Alias the proposed version gets (e.g. challenger)."},
            "stage": {"enum": PROPOSABLE_STAGES, "description": "Stage the proposed version gets."},
            "tags": {
                "description": "Keys of the training run's tags copied onto the version (a missing one is skipped).",
                "type": "array",
                "uniqueItems": True,
                "items": TAG_KEY,
            },
            "description": {
                "description": "Copy the training run's description (its mlflow.note.content tag) onto the version.",
                "type": "boolean",
            },
        },
        "anyOf": [{"required": ["alias"]}, {"required": ["stage"]}],
    }
