"""A model file's `serving:` section -> the version it pins, from the file alone (no registry).

The alias (or stage) the section names is looked up in the same file's `aliases` (or `versions`),
so what serves changes only when a reviewed change of the file moves it: `champion: 3 -> 4` is a
new pinned version, a new pod template, a rollout. Pure: reads files, imports nothing from MLflow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.desired import check_document, origin_for
from reconciler.document import check_semantics, from_document
from reconciler.errors import DesiredStateError, ValidationErrors
from reconciler.modelfiles import model_files
from reconciler.state import DesiredModel
from reconciler.yamlsource import read_model_file

DEFAULT_REPLICAS = 2
DEFAULT_CPU = "500m"
DEFAULT_MEMORY = "1Gi"


class ServingError(DesiredStateError):
    """A `serving:` section names something its file does not set."""


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


def pinned_version(model: DesiredModel, serving: Mapping[str, Any]) -> int:
    """The version a schema-valid `serving:` section names in `model`'s file."""
    at = model.origin.at
    if "alias" in serving:
        alias = serving["alias"]
        aliases = model.aliases or {}
        if alias not in aliases:
            known = ", ".join(sorted(aliases)) or "none"
            raise ServingError(
                f"{at('serving', 'alias')}: serving.alias {alias!r} is not set in this file's aliases "
                f"(set: {known}); add it under aliases or serve one of those"
            )
        return int(aliases[alias])
    stage = serving["stage"]
    holders = sorted(n for n, v in model.versions.items() if v.values.get("stage") == stage)
    if len(holders) != 1:
        found = "no version" if not holders else "versions " + ", ".join(map(str, holders))
        raise ServingError(
            f"{at('serving', 'stage')}: serving.stage {stage!r}: {found} of this file is in it; "
            "put exactly one version in that stage, or serve an alias"
        )
    return holders[0]


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
