"""JSON Schema of a model file's `serving:` section (part of schemas/model.schema.json)."""

from __future__ import annotations

from typing import Any

from reconciler.schema_parts import ALIAS_NAME, STAGE

# Kubernetes quantities as this program writes them: cpu in cores or millicores, memory in Mi/Gi.
CPU: dict[str, Any] = {
    "type": "string",
    "pattern": r"^(?!.*\n)([1-9][0-9]{0,4}m|[1-9][0-9]?)$",
    "description": "CPU as Kubernetes writes it: millicores (500m) or whole cores (2).",
}
MEMORY: dict[str, Any] = {
    "type": "string",
    "pattern": r"^(?!.*\n)[1-9][0-9]{0,5}(Mi|Gi)$",
    "description": "Memory in Mi or Gi, e.g. 512Mi or 2Gi.",
}
NAMESPACE: dict[str, Any] = {
    "type": "string",
    "maxLength": 63,
    "pattern": r"^(?!.*\n)[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
    "description": "A Kubernetes namespace name (RFC 1123 label).",
}
IMAGE_REF: dict[str, Any] = {
    "type": "string",
    "maxLength": 512,
    "pattern": r"^(?!.*\n)[a-z0-9][a-z0-9._/:-]*@sha256:[0-9a-f]{64}$",
    "description": "An image reference pinned by its digest: registry/repository@sha256:<64 hex digits>.",
}
PACKAGES_FILE: dict[str, Any] = {
    "type": "string",
    "maxLength": 255,
    "pattern": r"^(?!.*\n)(?!/)(?!.*(^|/)\.\.?(/|$))[A-Za-z0-9_./-]+\.txt$",
    "description": "Path, from the repository root, of the package list the image was built from "
    "(`pip freeze` form: name==version per line), e.g. images/serving-sklearn.txt.",
}


def serving_block() -> dict[str, Any]:
    return {
        "description": "Serve this model: the version the alias (or stage) names in this file is pinned when "
        "the infrastructure stack is built, so every replica serves that version and a change of the alias "
        "rolls the workload. Give exactly one of alias or stage.",
        "type": "object",
        "additionalProperties": False,
        "oneOf": [{"required": ["alias"]}, {"required": ["stage"]}],
        "properties": {
            "alias": {**ALIAS_NAME, "description": "The alias to serve; this file's aliases must set it."},
            "stage": {
                **STAGE,
                "description": "The stage to serve (deprecated in MLflow, supported): exactly one version in "
                "this file's versions must be in it.",
            },
            "replicas": {"type": "integer", "minimum": 1, "maximum": 50, "description": "Pods (default 2)."},
            "resources": {
                "description": "Per pod; requests equal limits (default cpu 500m, memory 1Gi).",
                "type": "object",
                "additionalProperties": False,
                "properties": {"cpu": CPU, "memory": MEMORY},
            },
            "latency_budget_ms": {
                "description": "The longest one scoring request may take, in milliseconds.",
                "type": "integer",
                "minimum": 1,
                "maximum": 600000,
            },
            "ingress_namespaces": {
                "description": "Namespaces whose pods may call the scoring server (default: none but its own).",
                "type": "array",
                "items": NAMESPACE,
                "uniqueItems": True,
                "maxItems": 50,
            },
            "image": {
                "description": "The runtime image (default: the stack's servingImage). The pinned version's "
                "requirements.txt is checked against its package list when the stack is built.",
                "type": "object",
                "additionalProperties": False,
                "required": ["ref", "packages"],
                "properties": {"ref": IMAGE_REF, "packages": PACKAGES_FILE},
            },
        },
    }
