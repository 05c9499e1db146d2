"""JSON Schema fragments shared by field declarations and the model file's schema.

Limits are the smallest that every MLflow backend accepts, so a file valid against one registry is
valid against all: MLflow's SQL schema stores descriptions and registered-model tag values in
varchar(5000) (PostgreSQL, MySQL and SQL Server enforce it; SQLite does not), model-version tag
values in a text column that MLflow's own validation caps at 100,000 characters. Name rules mirror
MLflow's validators; tests/unit/test_mlflow_rules.py checks them against MLflow's own functions.
"""

from __future__ import annotations

from typing import Any

DB_VARCHAR = 5000  # registered_models.description, model_versions.description, registered_model_tags.value
VERSION_TAG_VALUE_MAX = 100_000  # model_version_tags.value is text; MLflow validates this length
TAG_KEY_MAX = 250
ALIAS_MAX = 255
MODEL_NAME_MAX = 256

DESCRIPTION: dict[str, Any] = {"type": "string", "maxLength": DB_VARCHAR}
MODEL_TAG_VALUE: dict[str, Any] = {"type": "string", "maxLength": DB_VARCHAR}
VERSION_TAG_VALUE: dict[str, Any] = {"type": "string", "maxLength": VERSION_TAG_VALUE_MAX}

# MLflow: letters, digits, _ - . / : and spaces (ASCII here: the pattern must mean the same in every
# regex engine and on every OS); not a path that normalizes elsewhere ("a/../b",
# "team/", "/x", "./x"). The gitops. namespace is the reconciler's own.
TAG_KEY: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "maxLength": TAG_KEY_MAX,
    "pattern": r"^(?!.*\n)(?!gitops\.)(?!\.\.)(?!/)(?!.*//)(?!(.*/)?\.{1,2}(/|$))(?!.*/$)[A-Za-z0-9_./ :-]+$",
    "description": "Tag key: letters, digits, _ . - / : and spaces, and a normalized path (no leading or "
    "trailing '/', no '//', no '.' or '..' segments), as MLflow requires. The gitops. namespace is reserved.",
}
# MLflow: [\w-]+ ; 'latest' in any case and v<digits> (any case) are reserved.
ALIAS_NAME: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "maxLength": ALIAS_MAX,
    "pattern": r"^(?!.*\n)(?![vV][0-9]+$)(?![lL][aA][tT][eE][sS][tT]$)[A-Za-z0-9_-]+$",
    "description": "Alias: letters, digits, _ and -. Not 'latest' in any case and not v<number>: MLflow reserves both.",
}
STAGE: dict[str, Any] = {"enum": ["None", "Staging", "Production", "Archived"]}
# A GitHub user (alice, @alice) or team (@org/team). No newline: these names go into CODEOWNERS lines.
OWNER: dict[str, Any] = {
    "description": "A GitHub login (alice) or team (@org/team): letters, digits, _ . -",
    "type": "string",
    "maxLength": 100,
    "pattern": r"^(?!.*\n)@?[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)?$",
}
MODEL_NAME: dict[str, Any] = {
    "description": "Registered model name. Must equal the file name without .yaml, and not start with _ "
    "(files in models/ starting with _ are settings, such as _policy.yaml).",
    "type": "string",
    "minLength": 1,
    "maxLength": MODEL_NAME_MAX,
    # No / : (MLflow), nothing a file name cannot hold, no control or invisible format characters, no
    # whitespace at either end, not a path that normalizes elsewhere (".", ".."), not the reconciler's own,
    # not starting with _ (models/_policy.yaml and other _ files are settings, not model files).
    "pattern": r"^(?!.*\n)(?!gitops\.)(?!_)(?!\.\.)(?!\.$)(?!\s)(?!.*\s$)"
    r"[^/\\:*?\"<>|\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]+$",
}
