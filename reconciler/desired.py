"""Load models/*.yaml: parse, schema-check and turn each file into a typed DesiredModel.

Everything after this module works on typed values; raw dicts stop here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedBase
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from reconciler import schema as schema_mod
from reconciler.document import check_semantics, from_document
from reconciler.errors import DesiredStateError, ValidationErrors
from reconciler.state import DesiredModel, Origin

MAX_FILE_BYTES = 1024 * 1024
MAX_NODES = 200_000  # after alias expansion: stops "billion laughs" files
MAX_DEPTH = 32  # the format needs 5
SCHEMA_FILE = "model.schema.json"
# Explicit tags that still mean plain data; any other (!!python/..., !custom) is refused.
PLAIN_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq")}
SCHEMA_HEADER = "# yaml-language-server: $schema=../schemas/model.schema.json"
RESERVED_FILE_PREFIX = "_"  # models/_policy.yaml and the like: repository settings, not model files
EXPECTED_MODEL = f"a mapping with at least 'name:'; see schemas/{SCHEMA_FILE}"


@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema_mod.build())


def model_files(models_dir: Path) -> list[Path]:
    if not models_dir.is_dir():
        raise DesiredStateError(f"{models_dir}: no such directory; create it or pass --models-dir")
    return sorted(
        p
        for p in models_dir.iterdir()
        if p.suffix in (".yaml", ".yml") and not p.name.startswith(RESERVED_FILE_PREFIX) and p.is_file()
    )


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
    model = from_document(_plain(data), origin_for(data, source))
    if model.name != path.stem:
        raise DesiredStateError(
            f"{model.origin.at('name')}: name {model.name!r} differs from the "
            f"file name; rename the file to {model.name}.yaml or fix the name"
        )
    check_semantics(model)
    return model


def origin_for(data: Any, source: str) -> Origin:
    """Where values of a parsed document are: `origin.at("versions", "3")` -> "models/m.yaml:14"."""
    return Origin(source, lambda p: _line(data, list(p)))


def parse_yaml(text: str, source: str, expected: str = EXPECTED_MODEL) -> Any:
    """YAML text -> a mapping (ruamel's, with line numbers), refusing custom tags, deep nesting and
    alias bombs; `expected` says what the top level must be when it is not a mapping."""
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
        raise DesiredStateError(f"{source}:1: expected {expected}")
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
    check_schema(data, source, _validator(), SCHEMA_FILE)


def check_schema(data: Any, source: str, validator: jsonschema.Draft202012Validator, schema_file: str) -> None:
    """A parsed document against a JSON Schema: one line naming file:line, the JSON pointer, the
    problem and schemas/<schema_file>."""
    plain = _plain(data)
    bad_keys = [k for k in _all_keys(plain) if not isinstance(k, str)]
    if bad_keys:
        raise DesiredStateError(f"{source}: mapping key {bad_keys[0]!r} must be a string; quote it")
    error = jsonschema.exceptions.best_match(validator.iter_errors(plain))
    if error is None:
        return
    path = list(error.absolute_path)
    pointer = "/" + "/".join(str(p) for p in path)
    raise DesiredStateError(f"{source}:{_line(data, path)}: {pointer}: {_explain(error)}; see schemas/{schema_file}")


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
