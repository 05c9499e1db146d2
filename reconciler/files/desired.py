"""Load models/*.yaml: parse, schema-check and turn each file into a typed DesiredModel.

Everything after this module works on typed values; raw dicts stop here. Reading and checking the
YAML is in yamlsource (bytes -> Document) and modelschema (the JSON Schema); which files count is
in modelfiles; the typed conversion is in document.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from reconciler.errors import DesiredStateError, ValidationErrors
from reconciler.files import schemacheck
from reconciler.files.convert import check_semantics, from_document
from reconciler.files.modelfiles import model_files
from reconciler.files.pins import pinned_version
from reconciler.files.yamlsource import Document, parse, read_model_file
from reconciler.files.yamltext import BAD_IN_TEXT, MAX_FILE_BYTES, describe
from reconciler.masking import mask
from reconciler.pointer import pointer
from reconciler.state import DesiredModel, Origin
from reconciler.text import printable

__all__ = [
    "MAX_FILE_BYTES",
    "Document",
    "check_document",
    "check_names",
    "check_no_credentials",
    "check_schema",
    "check_serving",
    "load_file",
    "load_models",
    "model_files",
    "origin_for",
    "parse_yaml",
]

SCHEMA_FILE = schemacheck.SCHEMA_FILE
SCHEMA_HEADER = "# yaml-language-server: $schema=../schemas/model.schema.json"
parse_yaml = parse  # the name this module used to have


def load_models(models_dir: Path) -> list[DesiredModel]:
    """Load every file; report every bad file (one line each) before failing."""
    models, errors = [], []
    for path in model_files(models_dir):
        try:
            models.append(load_file(path))
        except DesiredStateError as e:
            errors.extend(e.errors if isinstance(e, ValidationErrors) else [e])  # a file's every problem
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
    model = from_document(doc.data, origin_for(doc))
    problems: list[DesiredStateError] = []
    if model.name != path.stem:
        problems.append(
            DesiredStateError(
                f"{model.origin.at('name')}: name {model.name!r} differs from the "
                f"file name; rename the file to {model.name}{path.suffix} or fix the name"
            )
        )
    problems += _caught(lambda: check_semantics(model))  # independent checks: each reports its own
    problems += _caught(lambda: check_serving(doc, model))
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise ValidationErrors(problems)
    return model


def check_names(doc: Document, name: str, verb: str) -> None:
    """An existing file that `verb` (import, propose) is about to edit for model `name` must say
    that name: one naming another (a copy-paste slip) would get this model's state under that name.
    (A missing or non-string name is the schema's to refuse.)"""
    named = doc.data.get("name")
    if isinstance(named, str) and named != name:
        raise DesiredStateError(
            f"{doc.source}:{doc.line(['name'])}: the file names model {named!r}, not {name!r}; fix its `name:` or "
            f"remove the file, then {verb} again (nothing was written)"
        )


def _caught(check: Callable[[], None]) -> list[DesiredStateError]:
    try:
        check()
    except DesiredStateError as e:
        return list(e.errors) if isinstance(e, ValidationErrors) else [e]
    return []


def check_serving(doc: Document, model: DesiredModel) -> None:
    """A `serving:` section must name an alias (or a stage) this file sets: checked with the file, so
    validate, plan and pre-commit refuse what the infrastructure stack could not build."""
    section = doc.data.get("serving")
    if isinstance(section, Mapping):
        pinned_version(model, section)


def origin_for(doc: Document) -> Origin:
    """Where a document's values are: `origin.at("versions", "3")` -> "models/m.yaml:14" (the line
    is found only when a message needs it: it re-reads the text)."""
    return Origin(doc.source, doc.line)


def check_document(data: Document | Mapping[str, Any], source: str = "<document>") -> Document:
    """Schema-check a Document (or plain data built in memory, e.g. a test's) and return it."""
    doc = data if isinstance(data, Document) else Document(_plain(data), source)
    schemacheck.check(doc)
    check_no_credentials(doc)
    return doc


def check_no_credentials(doc: Document) -> None:
    """A reviewed file goes into git, whose history cannot be un-leaked: a key or value that `mask`
    would change (a URI's password, `token=…`, a GitHub token) is refused, one line naming where."""
    found = _credential(doc.data, [])
    if found is not None:
        path, value = found
        raise DesiredStateError(
            f"{doc.source}:{doc.line(path)}: {pointer(path)}: holds what looks like a credential "
            f"({printable(mask(value))}); a model file goes into git: remove the secret (and rotate it if it was ever "
            "committed)"
        )


def value_problem(value: str) -> str | None:
    """What a model file may not hold, found in a string that comes from elsewhere (the registry, a
    run's tags): "holds …" in words; None when it may. The rules of a file's text and of
    `check_no_credentials`."""
    bad = BAD_IN_TEXT.search(value)
    if bad:
        return f"holds {describe(bad.group())}, which a model file may not"
    if mask(value) != value:
        return f"holds what looks like a credential ({printable(mask(value))}), which must not go into git"
    return None


def foreign_problem(data: Any, path: list[str] | None = None) -> tuple[list[str], str] | None:
    """The first key or value of plain data (what import or propose would write) a model file may
    not hold: its JSON-pointer steps and `value_problem`'s words."""
    path = path or []
    if isinstance(data, str):
        why = value_problem(data)
        return (path, why) if why else None
    items = data.items() if isinstance(data, Mapping) else enumerate(data) if isinstance(data, list) else ()
    for k, v in items:
        here = [*path, str(k)]
        why = value_problem(k) if isinstance(k, str) else None
        found = (here, why) if why else foreign_problem(v, here)
        if found is not None:
            return found
    return None


def _credential(data: Any, path: list[str]) -> tuple[list[str], str] | None:
    if isinstance(data, str):
        return (path, data) if mask(data) != data else None
    items = data.items() if isinstance(data, Mapping) else enumerate(data) if isinstance(data, list) else ()
    for k, v in items:
        here = [*path, str(k)]
        if isinstance(k, str) and mask(k) != k:
            return here, k
        found = _credential(v, here)
        if found is not None:
            return found
    return None


def check_schema(doc: Document, schema: dict[str, Any], schema_file: str) -> None:
    """A Document against another JSON Schema (small files such as the review policy): one line
    naming file:line, the JSON pointer, the problem and the schema. Validity as for model files:
    jsonschema-rs decides, Python's jsonschema only words the message."""
    import jsonschema_rs

    fast = jsonschema_rs.validator_for(schema)
    if fast.is_valid(doc.data):
        return
    import jsonschema

    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(doc.data))
    if error is None:  # only the compiled validator objects (e.g. NaN, which Python's counts as a number)
        first = next(iter(fast.iter_errors(doc.data)))
        path = [str(p) for p in first.instance_path]
        what = first.message if len(first.message) <= 200 else first.message[:199] + "…"
        value = _at(doc.data, list(first.instance_path))
        if isinstance(value, float) and not math.isfinite(value):
            what = f"{value!r} is not a finite number"
        raise DesiredStateError(schemacheck.located(doc, path, what, f"see schemas/{schema_file}"))
    path = [str(p) for p in error.absolute_path]
    raise DesiredStateError(
        schemacheck.located(doc, path, schemacheck.message(error), f"see schemas/{schema_file}", error)
    )


def _at(data: Any, path: list[Any]) -> Any:
    for step in path:
        try:
            data = data[step]
        except (KeyError, IndexError, TypeError):
            return None
    return data


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
