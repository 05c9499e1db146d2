"""The JSON Schema (schemas/model.schema.json, draft 2020-12) check of a desired-state document.

jsonschema-rs (compiled, Rust) decides validity, on every file. Only when it says no is Python's
jsonschema imported, for its best_match message; the line comes from the Document. The two differ
where regular expressions do: JSON Schema patterns are ECMA-262, so `$` does not match before a
final newline (Python's re does) and `\\w` follows Unicode's definition; jsonschema-rs is the judge.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import jsonschema_rs

from reconciler import fields
from reconciler.errors import DesiredStateError, ValidationErrors
from reconciler.files.fieldschema import place
from reconciler.pointer import pointer as json_pointer

if TYPE_CHECKING:
    import jsonschema

SCHEMA_FILE = "model.schema.json"
HINT = f"see schemas/{SCHEMA_FILE}"


class Document(Protocol):
    """A parsed file as the check needs it (reconciler/files/yamlsource.py `Document`)."""

    @property
    def data(self) -> Any: ...

    @property
    def source(self) -> str: ...

    @property
    def text(self) -> str: ...

    @property
    def schema_valid(self) -> bool | None: ...

    def line(self, path: Sequence[str | int]) -> int: ...


def schema() -> dict[str, Any]:
    """schemas/model.schema.json with the field table in force in place (the same schema unless a
    test added a declaration with `fields.registered()`)."""
    return _schema(fields.revision())


@lru_cache(maxsize=2)
def _schema(revision: int) -> dict[str, Any]:
    package = Path(__file__).resolve().parents[1]  # reconciler/
    for candidate in (package.parent / "schemas" / SCHEMA_FILE, package / "_schemas" / SCHEMA_FILE):
        if candidate.is_file():
            return place(json.loads(candidate.read_text()))
    raise FileNotFoundError(f"{SCHEMA_FILE} not found next to the reconciler package")


def _compiled() -> Any:
    return _compiled_for(fields.revision())


@lru_cache(maxsize=2)
def _compiled_for(revision: int) -> Any:
    return jsonschema_rs.validator_for(_schema(revision))


def is_valid(data: Any) -> bool:
    try:
        return bool(_compiled().is_valid(data))
    except ValueError:  # a key that is not a string
        return False


def check(doc: Document) -> None:
    """Raise a one-line DesiredStateError (file:line: /json/pointer: what; what to do) unless
    `doc.data` is valid against the schema."""
    if doc.schema_valid or (doc.schema_valid is None and is_valid(doc.data)):
        return
    problems = _explain(doc)
    if len(problems) == 1:
        raise DesiredStateError(problems[0])
    raise ValidationErrors([DesiredStateError(p) for p in problems])


MAX_PROBLEMS = 20  # per file; the last line then says how many more there are


def _explain(doc: Document) -> list[str]:
    """One line per independent problem (each place the schema refuses, its best-matching reason)."""
    bad_key = None if doc.text else _non_string_key(doc.data)  # files: the reader made every key a string
    if bad_key is not None:
        return [f"{doc.source}: mapping key {bad_key!r} must be a string; quote it"]
    errors = _best_matches(doc.data)
    if not errors:  # only jsonschema-rs objects (a pattern the two engines read differently)
        first = next(iter(_compiled().iter_errors(doc.data)), None)
        path = [str(p) for p in first.instance_path] if first is not None else []
        what = _short(first.message, 200) if first is not None else "not valid"
        return [located(doc, path, what, HINT)]
    errors.sort(key=lambda e: doc.line(where(e, [str(p) for p in e.absolute_path])))  # in the file's order
    lines = [located(doc, [str(p) for p in e.absolute_path], message(e), HINT, e) for e in errors[:MAX_PROBLEMS]]
    if len(errors) > MAX_PROBLEMS:
        lines.append(f"{doc.source}: {len(errors) - MAX_PROBLEMS} more schema problem(s); fix these and run again")
    return lines


def located(
    doc: Document, path: list[str], what: str, hint: str, error: jsonschema.ValidationError | None = None
) -> str:
    """The one shape of every schema message (model files, the review policy):
    `file:line: /json/pointer: what; what to do`."""
    return f"{doc.source}:{doc.line(where(error, path))}: {json_pointer(path)}: {what}; {hint}"


def _best_matches(data: Any) -> list[jsonschema.ValidationError]:
    """Each top-level error's best match (a oneOf's likeliest branch), one per place, in file order."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema())
    found: dict[tuple[str, ...], jsonschema.ValidationError] = {}
    for error in validator.iter_errors(data):
        best = jsonschema.exceptions.best_match([error])
        if best is not None:
            found.setdefault(tuple(map(str, best.absolute_path)), best)
    return [found[k] for k in sorted(found)]


def where(error: jsonschema.ValidationError | None, path: list[str]) -> list[str]:
    """The path whose line to show: for unknown keys, the first one's own line."""
    unknown = _unknown_keys(error) if error is not None else []
    return [*path, str(unknown[0])] if unknown else path


def _unknown_keys(error: jsonschema.ValidationError) -> list[Any]:
    """The keys an `additionalProperties: false` refused, in the file's order ([] for other errors)."""
    if error.validator != "additionalProperties" or not isinstance(error.instance, Mapping):
        return []
    known = error.schema.get("properties", {})
    return [k for k in error.instance if k not in known]


MAX_UNKNOWN_SHOWN = 5  # unknown keys named in one line; the others counted


def message(error: jsonschema.ValidationError) -> str:
    """What is wrong, in words: never the whole value (a tag value may be 100 KB), never a raw
    regular expression (the schema's description of the rule instead)."""
    value = _short(error.instance)
    if error.validator == "additionalProperties":
        unknown = _unknown_keys(error)
        named = ", ".join(_short(k) for k in unknown[:MAX_UNKNOWN_SHOWN])
        more = f" and {len(unknown) - MAX_UNKNOWN_SHOWN} more" if len(unknown) > MAX_UNKNOWN_SHOWN else ""
        return f"unknown key{'s' if len(unknown) > 1 else ''} {named}{more}".rstrip() + "; check the spelling"
    if error.validator == "type" and error.schema.get("type") == "string":
        return f"{value} must be a string; quote it"
    if error.validator == "maxLength":
        return (
            f"{len(error.instance):,} characters, more than the {error.validator_value:,} every MLflow backend stores"
        )
    if error.validator == "pattern":
        rule = error.schema.get("description") or "it is not in the allowed form"
        return f"{value} is not allowed here. {rule}"
    if error.validator == "enum":
        return f"{value} is not one of {', '.join(map(repr, error.validator_value))}"
    text = str(error.message).replace(repr(error.instance), value)
    return text if len(text) <= 200 else text[:199] + "…"


def _short(value: Any, width: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 2] + "…" + text[-1]


def _non_string_key(data: Any) -> Any:
    """The first key that is not a string in data built in memory (None if there is none)."""
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, Mapping):
            bad = next((k for k in node if not isinstance(k, str)), None)
            if bad is not None:
                return bad
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return None
