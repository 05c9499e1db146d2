"""Load models/*.yaml: parse, schema-check and turn each file into a typed DesiredModel.

Everything after this module works on typed values; raw dicts stop here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedBase
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from reconciler.errors import DesiredStateError, ValidationErrors
from reconciler.state import DesiredModel, DesiredVersion, Policy, Prune, Stage, frozen_map

MAX_FILE_BYTES = 1024 * 1024
MAX_NODES = 200_000  # after alias expansion: stops "billion laughs" files
MAX_DEPTH = 32  # the format needs 5
SCHEMA_FILE = "model.schema.json"
# Explicit tags that still mean plain data; any other (!!python/..., !custom) is refused.
PLAIN_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq")}
SCHEMA_HEADER = "# yaml-language-server: $schema=../schemas/model.schema.json"


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "schemas" / SCHEMA_FILE, here / "_schemas" / SCHEMA_FILE):
        if candidate.is_file():
            return json.loads(candidate.read_text())
    raise FileNotFoundError(f"{SCHEMA_FILE} not found next to the reconciler package")


def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema())


def model_files(models_dir: Path) -> list[Path]:
    if not models_dir.is_dir():
        raise DesiredStateError(f"{models_dir}: no such directory; create it or pass --models-dir")
    return sorted(p for p in models_dir.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


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
    source = str(path)
    if path.stat().st_size > MAX_FILE_BYTES:
        raise DesiredStateError(
            f"{source}: file is larger than {MAX_FILE_BYTES // 1024} KiB; "
            "one model's desired state should be small: split or trim it"
        )
    data = parse_yaml(path.read_text(encoding="utf-8", errors="strict"), source)
    check_document(data, source)
    model = from_document(data, source)
    if model.name != path.stem:
        raise DesiredStateError(
            f"{source}:{_line(data, ['name'])}: name {model.name!r} differs from the "
            f"file name; rename the file to {model.name}.yaml or fix the name"
        )
    check_semantics(model, data)
    return model


def parse_yaml(text: str, source: str) -> Any:
    yaml = YAML(typ="rt", pure=True)
    try:
        data = yaml.load(text)
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = f":{mark.line + 1}" if mark else ""
        raise DesiredStateError(f"{source}{line}: invalid YAML: {e.problem or e.context}; fix the syntax") from e
    except YAMLError as e:
        raise DesiredStateError(f"{source}: invalid YAML: {e}; fix the syntax") from e
    except RecursionError as e:
        raise DesiredStateError(f"{source}: nested too deeply; the format needs at most 5 levels") from e
    if not isinstance(data, Mapping):
        raise DesiredStateError(f"{source}:1: expected a mapping with at least 'name:'; see schemas/{SCHEMA_FILE}")
    _check_shape(data, source)
    return data


def _check_shape(data: Any, source: str) -> None:
    """Refuse custom tags (e.g. !!python/object), deep nesting and alias bombs before anything else."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    nodes = 0
    while stack:
        node, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise DesiredStateError(
                f"{source}: more than {MAX_NODES} nodes (after expanding YAML aliases); "
                "remove the anchors/aliases or trim the file"
            )
        if depth > MAX_DEPTH:
            raise DesiredStateError(
                f"{source}:{_node_line(node)}: nested deeper than {MAX_DEPTH} levels; the format needs at most 5"
            )
        tag = getattr(getattr(node, "tag", None), "value", None)
        if isinstance(tag, str) and tag not in PLAIN_TAGS:
            raise DesiredStateError(
                f"{source}:{_node_line(node)}: YAML tag {tag} is not allowed; "
                "use plain strings, numbers, lists and mappings"
            )
        if isinstance(node, Mapping):
            stack.extend((v, depth + 1) for v in node.values())
            stack.extend((k, depth + 1) for k in node)
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
        elif not isinstance(node, (str, int, float, bool, type(None))):
            raise DesiredStateError(
                f"{source}: value of type {type(node).__name__} is not allowed; "
                "use plain strings, numbers, lists and mappings"
            )


def _node_line(node: Any) -> int:
    lc = getattr(node, "lc", None)
    return (lc.line + 1) if lc is not None and lc.line is not None else 1


def _plain(data: Any) -> Any:
    """ruamel values -> JSON-shaped plain values; mapping keys become strings."""
    if isinstance(data, Mapping):
        return {str(k) if isinstance(k, int) and not isinstance(k, bool) else k: _plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_plain(v) for v in data]
    return data


def check_document(data: Any, source: str) -> None:
    plain = _plain(data)
    bad_keys = [k for k in _all_keys(plain) if not isinstance(k, str)]
    if bad_keys:
        raise DesiredStateError(f"{source}: mapping key {bad_keys[0]!r} must be a string; quote it")
    error = jsonschema.exceptions.best_match(_validator().iter_errors(plain))
    if error is None:
        return
    path = list(error.absolute_path)
    pointer = "/" + "/".join(str(p) for p in path)
    raise DesiredStateError(f"{source}:{_line(data, path)}: {pointer}: {_explain(error)}; see schemas/{SCHEMA_FILE}")


def _all_keys(d: Any) -> Iterable[Any]:
    if isinstance(d, Mapping):
        for k, v in d.items():
            yield k
            yield from _all_keys(v)
    elif isinstance(d, list):
        for v in d:
            yield from _all_keys(v)


def _explain(error: jsonschema.ValidationError) -> str:
    if error.validator == "additionalProperties":
        return error.message.replace("Additional properties are not allowed", "unknown key")
    if error.validator == "type" and error.schema.get("type") == "string":
        return f"{error.instance!r} must be a string; quote it"
    return error.message


def _line(data: Any, path: list[Any]) -> int:
    """1-based line of the deepest node on `path` that the YAML still knows."""
    node, line = data, 1
    for step in path:
        if not isinstance(node, CommentedBase):
            break
        key = _original_key(node, step)
        try:
            line = node.lc.key(key)[0] + 1 if isinstance(node, Mapping) else node.lc.item(key)[0] + 1
            node = node[key]  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            break
    return line


def _original_key(node: Any, step: Any) -> Any:
    if isinstance(node, Mapping):
        for k in node:
            if str(k) == str(step):
                return k
    return step


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
        where = f"{m.source}:{_line(data, ['policy', 'stage_aliases', stage.value])}"
        if len(holders) > 1:
            raise DesiredStateError(
                f"{where}: alias {alias!r} follows {stage.value}, which versions {holders} "
                "all hold; put one version in that stage or drop the mapping"
            )
        explicit = (m.aliases or {}).get(alias)
        if holders and explicit is not None and explicit != holders[0]:
            raise DesiredStateError(
                f"{where}: alias {alias!r} follows {stage.value} (version {holders[0]}) but "
                f"aliases sets it to {explicit}; remove one of the two"
            )
