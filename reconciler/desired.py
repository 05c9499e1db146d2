"""Load models/*.yaml: parse, schema-check and turn each file into a typed DesiredModel.

Everything after this module works on typed values; raw dicts stop here. Reading and checking the
YAML is in yamlsource (bytes -> Document) and modelschema (the JSON Schema); which files count is
in modelfiles.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from reconciler import modelschema
from reconciler.errors import DesiredStateError, ValidationErrors
from reconciler.modelfiles import model_files
from reconciler.state import DesiredModel, DesiredVersion, Policy, Prune, Stage, frozen_map
from reconciler.yamlsource import Document, parse, read_model_file

__all__ = ["Document", "check_document", "load_file", "load_models", "model_files", "parse_yaml"]

SCHEMA_FILE = modelschema.SCHEMA_FILE
SCHEMA_HEADER = "# yaml-language-server: $schema=../schemas/model.schema.json"
schema = modelschema.schema
parse_yaml = parse  # the name this module used to have


def load_models(models_dir: Path) -> list[DesiredModel]:
    """Load every file; report every bad file (one line each) before failing."""
    models, errors = [], []
    for path in model_files(models_dir):
        try:
            models.append(load_file(path))
        except DesiredStateError as e:
            errors.append(e)
    errors.extend(_duplicate_names(models))
    if errors:
        raise ValidationErrors(errors)
    return models


def _duplicate_names(models: Iterable[DesiredModel]) -> list[DesiredStateError]:
    seen: dict[str, str] = {}
    errors = []
    for m in models:
        if m.name in seen:
            errors.append(
                DesiredStateError(
                    f"{m.source}: model {m.name!r} is also declared in {seen[m.name]}; keep one file per model"
                )
            )
        seen.setdefault(m.name, m.source)
    return errors


def load_file(path: Path) -> DesiredModel:
    doc = read_model_file(path)
    check_document(doc)
    model = from_document(doc.data, doc.source)
    if model.name != path.stem:
        raise DesiredStateError(
            f"{doc.source}:{doc.line(['name'])}: name {model.name!r} differs from the "
            f"file name; rename the file to {model.name}{path.suffix} or fix the name"
        )
    check_semantics(model, doc)
    return model


def check_document(data: Document | Mapping[str, Any], source: str = "<document>") -> Document:
    """Schema-check a Document (or plain data built in memory, e.g. a test's) and return it."""
    doc = data if isinstance(data, Document) else Document(_plain(data), source)
    modelschema.check(doc)
    return doc


_LEAVES = frozenset((str, int, float, bool, type(None)))


def _plain(data: Any) -> Any:
    """Plain values with integer mapping keys as strings (version numbers; what JSON has).
    Leaves are not recursed into: a loaded file has ~150 per model."""
    if isinstance(data, Mapping):
        return {(k if type(k) is str else _key(k)): (v if type(v) in _LEAVES else _plain(v)) for k, v in data.items()}
    if isinstance(data, list):
        return [v if type(v) in _LEAVES else _plain(v) for v in data]
    return data


def _key(k: Any) -> Any:
    return str(k) if isinstance(k, int) and not isinstance(k, bool) else k


def _line(data: Any, path: list[Any]) -> int:
    """1-based line of the deepest node on `path` that the file has (1 without a Document)."""
    return data.line(path) if isinstance(data, Document) else 1


def from_document(data: Mapping[str, Any], source: str) -> DesiredModel:
    """A schema-valid document -> DesiredModel (also used for plans' embedded desired state)."""
    d = _plain(data)
    return DesiredModel(
        name=d["name"],
        source=source,
        description=d.get("description"),
        owners=tuple(d.get("owners", ())),
        tags=frozen_map(d["tags"]) if "tags" in d else None,
        aliases=frozen_map({k: int(v) for k, v in d["aliases"].items()}) if "aliases" in d else None,
        versions=frozen_map({int(k): _version(int(k), v or {}) for k, v in d.get("versions", {}).items()}),
        policy=_policy(d.get("policy", {})),
    )


def _version(number: int, d: Mapping[str, Any]) -> DesiredVersion:
    return DesiredVersion(
        version=number,
        stage=Stage(d["stage"]) if "stage" in d else None,
        description=d.get("description"),
        tags=frozen_map(d["tags"]) if "tags" in d else None,
    )


def _policy(d: Mapping[str, Any]) -> Policy:
    return Policy(
        exclusive_stages=frozenset(Stage(s) for s in d.get("exclusive_stages", ())),
        keep_latest=d.get("keep_latest"),
        stage_aliases=frozen_map({Stage(s): a for s, a in d.get("stage_aliases", {}).items()}),
        prune=Prune(**d.get("prune", {})),
    )


def to_document(m: DesiredModel) -> dict[str, Any]:
    """DesiredModel -> the file format (plain values), omitting what the model leaves alone."""
    doc: dict[str, Any] = {"name": m.name}
    if m.description is not None:
        doc["description"] = m.description
    if m.owners:
        doc["owners"] = list(m.owners)
    if m.tags is not None:
        doc["tags"] = dict(m.tags)
    if m.aliases is not None:
        doc["aliases"] = dict(m.aliases)
    if m.versions:
        doc["versions"] = {str(n): _version_doc(v) for n, v in m.versions.items()}
    policy = _policy_doc(m.policy)
    if policy:
        doc["policy"] = policy
    return doc


def _version_doc(v: DesiredVersion) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    if v.stage is not None:
        doc["stage"] = v.stage.value
    if v.description is not None:
        doc["description"] = v.description
    if v.tags is not None:
        doc["tags"] = dict(v.tags)
    return doc


def _policy_doc(p: Policy) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    if p.exclusive_stages:
        doc["exclusive_stages"] = sorted(s.value for s in p.exclusive_stages)
    if p.keep_latest is not None:
        doc["keep_latest"] = p.keep_latest
    if p.stage_aliases:
        doc["stage_aliases"] = {s.value: a for s, a in p.stage_aliases.items()}
    prune = {k: v for k, v in vars(p.prune).items() if v}
    if prune:
        doc["prune"] = prune
    return doc


def check_semantics(m: DesiredModel, data: Any = None) -> None:
    """Contradictions the schema cannot express."""
    for stage in m.policy.exclusive_stages:
        holders = sorted(n for n, v in m.versions.items() if v.stage is stage)
        if len(holders) > 1:
            raise DesiredStateError(
                f"{m.source}:{_line(data, ['versions', str(holders[1]), 'stage'])}: versions {holders} are all "
                f"{stage.value}, but policy.exclusive_stages says one at a time; keep one"
            )
    for stage, alias in m.policy.stage_aliases.items():
        holders = sorted(n for n, v in m.versions.items() if v.stage is stage)
        path = ["policy", "stage_aliases", stage.value]  # its line only on error: finding it re-reads the file
        if len(holders) > 1:
            raise DesiredStateError(
                f"{m.source}:{_line(data, path)}: alias {alias!r} follows {stage.value}, which versions {holders} "
                "all hold; put one version in that stage or drop the mapping"
            )
        explicit = (m.aliases or {}).get(alias)
        if holders and explicit is not None and explicit != holders[0]:
            raise DesiredStateError(
                f"{m.source}:{_line(data, path)}: alias {alias!r} follows {stage.value} (version {holders[0]}) but "
                f"aliases sets it to {explicit}; remove one of the two"
            )
