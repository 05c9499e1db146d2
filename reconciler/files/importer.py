"""Write models/<name>.yaml from the live registry; update existing files in place, keeping comments."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.representer import RoundTripRepresenter
from ruamel.yaml.scalarstring import LiteralScalarString

from reconciler.errors import DesiredStateError
from reconciler.fields import Level, native
from reconciler.files.convert import check_semantics, from_document
from reconciler.files.desired import SCHEMA_HEADER, check_document, check_names, foreign_problem
from reconciler.files.yamlscalars import needs_quotes
from reconciler.files.yamlsource import parse
from reconciler.pointer import pointer
from reconciler.state import LiveModel, Origin
from reconciler.text import line_endings


class RegistryValueError(DesiredStateError):
    """What the registry holds of a model (a value, a key) no model file may hold: to be changed in
    the registry, where no edit of the file would help."""


def managed_keys() -> tuple[str, ...]:
    """The keys import owns; everything else in an existing file (owners, policy, comments) is kept."""
    return (*(f.file_key for f in native(Level.MODEL)), "versions")


def live_document(m: LiveModel, listed: frozenset[int] = frozenset()) -> dict[str, Any]:
    """The file content that makes `plan` show no changes for this live model. Versions with
    anything to say are listed, and those in `listed` (the existing file's); every listed version
    states its stage, None included, so drift of that stage shows in later plans."""
    doc: dict[str, Any] = {"name": m.name}
    model_fields, version_fields = native(Level.MODEL), native(Level.VERSION)
    doc.update({f.file_key: f.document(f.live(m.values)) for f in model_fields if not f.is_empty(f.live(m.values))})
    versions = {}
    for n, v in sorted(m.versions.items()):
        entry = {
            f.file_key: f.document(f.live(v.values))
            for f in version_fields
            if not f.is_empty(f.live(v.values)) or f.import_always
        }
        if n in listed or any(not f.is_empty(f.live(v.values)) for f in version_fields):
            versions[n] = entry
    if versions:
        doc["versions"] = versions
    return doc


class _QuotingRepresenter(RoundTripRepresenter):
    """Quotes every string that some YAML reader would read as something else (yes, on, ~, 010,
    1:20, 2026-01-01, .inf, ' padded '...): YAML 1.1 readers (PyYAML, Go's yaml.v2) as well as 1.2 ones."""

    def represent_str(self, data: Any) -> Any:
        if needs_quotes(data):
            return self.represent_scalar("tag:yaml.org,2002:str", data, style="'")
        return super().represent_str(data)


_QuotingRepresenter.add_representer(str, _QuotingRepresenter.represent_str)


def _yaml() -> YAML:
    yaml = YAML(typ="rt", pure=True)
    yaml.Representer = _QuotingRepresenter
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 100
    return yaml


def round_trip_yaml() -> YAML:
    """The writer for edits of an existing model file (training and rollback proposals): import's,
    with comments, order and quoting kept ('vision' stays 'vision') and a long value (a digest) on
    its key's line."""
    yaml = _yaml()
    yaml.preserve_quotes = True
    yaml.width = 4096
    return yaml


def _styled(value: Any) -> Any:
    """A multi-line string as a literal block, unless it holds a CR: a block reads CR and CRLF as a
    line break, so such a string stays double-quoted (its CRs escaped) to read back the same."""
    if isinstance(value, str) and "\n" in value and "\r" not in value:
        return LiteralScalarString(value)
    return value


def _merge(into: CommentedMap, new: Mapping[str, Any]) -> None:
    """Update a ruamel mapping in place: kept keys keep their comments and order."""
    for key in [k for k in into if k not in new and str(k) not in {str(n) for n in new}]:
        del into[key]
    for key, value in new.items():
        existing_key = next((k for k in into if str(k) == str(key)), key)
        if isinstance(value, Mapping):
            if not isinstance(into.get(existing_key), CommentedMap):
                into[existing_key] = CommentedMap()
            _merge(into[existing_key], value)
        elif into.get(existing_key) != value:
            into[existing_key] = _styled(value)


def render_file(m: LiveModel, existing: str | None, source: str) -> str:
    newline = "\n"
    if existing is None:
        data = CommentedMap()
        data["name"] = m.name
    else:
        doc = parse(existing, source)  # the strict reading refuses tags, bombs, bad bytes before we edit
        check_names(doc, m.name, "import")
        existing, newline = line_endings(existing, source)
        data = _yaml().load(existing)
    listed = frozenset(int(k) for k in (data.get("versions") or {}) if str(k).isdigit())
    new = live_document(m, listed)
    found = foreign_problem(new)  # named where it is: in the registry, not a line of the file
    if found is not None:
        path, why = found
        raise RegistryValueError(
            f"model {m.name!r} in the registry, {pointer(path)}: {why}; change it in the registry and import "
            "again (nothing was written)"
        )
    for key in managed_keys():
        if key in new:
            if not isinstance(data.get(key), CommentedMap) and isinstance(new[key], Mapping):
                data[key] = CommentedMap()
            if isinstance(new[key], Mapping):
                _merge(data[key], new[key])
            else:
                data[key] = _styled(new[key])
        elif key in data:
            del data[key]
    buf = io.StringIO()
    _yaml().dump(data, buf)
    text = buf.getvalue()
    if SCHEMA_HEADER not in text:
        text = f"{SCHEMA_HEADER}\n{text}"
    text = text.replace("\n", newline)
    try:
        _check(text, source)
    except DesiredStateError as e:
        if existing is not None and _fits(m, source):
            raise  # the existing file's own content: a file without it would be valid
        raise RegistryValueError(str(e)) from e
    return text


def _fits(m: LiveModel, source: str) -> bool:
    """Whether the registry's state alone makes a valid file (for an error: whose is it to fix)."""
    try:
        render_file(m, None, source)
    except DesiredStateError:
        return False
    return True


def _check(text: str, source: str) -> None:
    doc = parse(text, source)
    try:
        check_document(doc)
        check_semantics(from_document(doc.data, Origin(source, doc.line)))
    except DesiredStateError as e:
        raise DesiredStateError(f"{e} (import would write an invalid file; nothing was written)") from e
