"""The model file's JSON Schema, assembled from the field declarations.

`schemas/model.schema.json` is this function's output, committed for editors and other tools;
`python -m reconciler.files.schemagen --write` regenerates it and a test fails when it is out of date.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from reconciler.fields.fragments import ALIAS_NAME, MODEL_NAME, OWNER
from reconciler.files.fieldschema import place
from reconciler.files.monitoring_section import monitoring_schema
from reconciler.files.proposeschema import rule_schema
from reconciler.files.review import review_block_schema
from reconciler.files.schematext import schema_text, write_or_print
from reconciler.files.serving import serving_block
from reconciler.files.smoke_section import smoke_schema

SCHEMA_ID = "https://mlflow-registry-gitops.dev/schemas/model.schema.json"
SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "model.schema.json"


def _version() -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "properties": {}}  # the fields: fieldschema.place


def _policy() -> dict[str, Any]:
    promoted = {"enum": ["Staging", "Production"]}
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "exclusive_stages": {
                "description": "Stages held by one version at a time: when the file puts a version in one of "
                "these stages, other versions holding it are archived.",
                "type": "array",
                "items": promoted,
                "uniqueItems": True,
            },
            "keep_latest": {
                "description": "Archive READY versions older than the newest N READY ones, except those the "
                "file names (in versions or aliases), those an alias points at, and holders of a stage the file "
                "names (those are reported in the plan). Failed or pending registrations are left alone.",
                "type": "integer",
                "minimum": 1,
            },
            "stage_aliases": {
                "description": "Stage-to-alias migration: the alias follows whichever version holds that stage "
                "(e.g. Production: champion); when several do, it stays where it is and the plan says so. "
                "One alias per stage.",
                "type": "object",
                "propertyNames": promoted,
                "additionalProperties": ALIAS_NAME,
            },
            "prune": {
                "description": "Opt in to removing what the registry has and the file does not. Default: report only.",
                "type": "object",
                "additionalProperties": False,
                "properties": {},  # the fields' prune flags: fieldschema.place
            },
        },
    }


def build() -> dict[str, Any]:
    return place(_skeleton())


def _skeleton() -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Registered model (desired state)",
        "description": "What one MLflow registered model should look like. One file per model: "
        "models/<name>.yaml. Versions are created by training code; this file only refers to versions that exist.",
        "type": "object",
        "additionalProperties": False,
        "required": ["name"],
        "properties": {
            "name": MODEL_NAME,
            "owners": {
                "description": "Who owns this model: GitHub users (alice) or teams (@org/team). "
                "Owners approve changes to this file.",
                "type": "array",
                "items": OWNER,
                "uniqueItems": True,
            },
            # the model fields go here: fieldschema.place
            "versions": {
                "description": "Per-version desired state, keyed by version number. Versions not listed are left "
                "alone (except by policy.keep_latest and policy.exclusive_stages).",
                "type": "object",
                "propertyNames": {
                    "pattern": "^[1-9][0-9]{0,8}$",
                    "description": "A version number as MLflow gives it: 1, 2, 3 (no leading zero).",
                },
                "additionalProperties": _version(),
            },
            "policy": _policy(),
            "review": review_block_schema(),
            "serving": serving_block(),
            "propose": rule_schema(),
            "smoke": smoke_schema(),
            "monitoring": monitoring_schema(),
        },
    }


def text() -> str:
    return schema_text(build())


if __name__ == "__main__":
    write_or_print(SCHEMA_PATH, text(), sys.argv[1:])
