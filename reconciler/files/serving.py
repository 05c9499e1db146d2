"""A model file's `serving:` section: its JSON Schema (part of schemas/model.schema.json), and the
version it pins, from the file alone (no registry).

The alias (or stage) the section names is looked up in the same file's `aliases` (or `versions`),
so what serves changes only when a reviewed change of the file moves it: `champion: 3 -> 4` is a
new pinned version, a new pod template, a rollout. Pure: reads files, imports nothing from MLflow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.errors import DesiredStateError, ValidationErrors
from reconciler.fields.fragments import ALIAS_NAME, STAGE
from reconciler.files.convert import check_semantics, from_document
from reconciler.files.desired import check_document, origin_for
from reconciler.files.modelfiles import model_files
from reconciler.files.pin import ServingError as ServingError  # re-exported: reconciler.serving
from reconciler.files.pin import pinned_version
from reconciler.files.yamlsource import read_model_file
from reconciler.state import DesiredModel

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


# --- Resolving ---------------------------------------------------------------------------------

DEFAULT_REPLICAS = 2
DEFAULT_CPU = "500m"
DEFAULT_MEMORY = "1Gi"


@dataclass(frozen=True)
class RuntimeImage:
    ref: str  # pinned by digest
    packages: str  # the package list it was built from, relative to the repository root


@dataclass(frozen=True)
class Served:
    """One served model: the pinned version and how to run it."""

    model: str
    version: int
    source: str  # "models/m.yaml:12", the line of the serving section
    follows: str  # "alias champion" or "stage Production": what moved the pin
    replicas: int = DEFAULT_REPLICAS
    cpu: str = DEFAULT_CPU
    memory: str = DEFAULT_MEMORY
    latency_budget_ms: int | None = None
    ingress_namespaces: tuple[str, ...] = ()
    image: RuntimeImage | None = None

    @property
    def model_uri(self) -> str:
        """The pinned version's URI: a number, never an alias."""
        return f"models:/{self.model}/{self.version}"


def served(model: DesiredModel, serving: Mapping[str, Any]) -> Served:
    """A typed Served from a schema-valid section of `model`'s file."""
    resources = serving.get("resources", {})
    image = serving.get("image")
    follows = f"alias {serving['alias']}" if "alias" in serving else f"stage {serving['stage']}"
    return Served(
        model=model.name,
        version=pinned_version(model, serving),
        source=model.origin.at("serving"),
        follows=follows,
        replicas=serving.get("replicas", DEFAULT_REPLICAS),
        cpu=resources.get("cpu", DEFAULT_CPU),
        memory=resources.get("memory", DEFAULT_MEMORY),
        latency_budget_ms=serving.get("latency_budget_ms"),
        ingress_namespaces=tuple(serving.get("ingress_namespaces", ())),
        image=RuntimeImage(image["ref"], image["packages"]) if image else None,
    )


def load_served(path: Path) -> Served | None:
    """One model file, checked as the reconciler checks it; None when it serves nothing."""
    doc = read_model_file(path)
    check_document(doc)
    model = from_document(doc.data, origin_for(doc))
    if model.name != path.stem:
        raise DesiredStateError(
            f"{model.origin.at('name')}: name {model.name!r} differs from the file name; "
            f"rename the file to {model.name}{path.suffix} or fix the name"
        )
    check_semantics(model)
    section = doc.data.get("serving")
    return None if section is None else served(model, section)


def served_models(models_dir: Path) -> list[Served]:
    """Every served model of a models directory, by name; every bad file reported, one line each."""
    found, errors = [], []
    for path in model_files(models_dir):
        try:
            one = load_served(path)
        except DesiredStateError as error:
            errors.extend(error.errors if isinstance(error, ValidationErrors) else [error])
            continue
        if one is not None:
            found.append(one)
    if errors:
        raise ValidationErrors(errors)
    return sorted(found, key=lambda s: s.model)
