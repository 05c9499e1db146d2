"""models/*.yaml bytes -> a Document: plain data (dict/list/str/int/float/bool/None, str keys),
read strictly, with line numbers on demand for error messages.

Two readers give the same data. The reference reader (yamlstrict: libyaml's C parser, events
turned into data in Python) handles everything and produces every error message. A Rust reader
(yaml-rs) is about 15 times faster; it is used only for text in the plain subset of YAML where the
two agree, and only when its result passes the schema (see `_read_fast`). Anything else, and
every error, goes through the reference reader. tests/unit/test_yaml_fuzz.py and
bench/fuzz_loader.py check that the two agree.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml_rs

from reconciler.errors import DesiredStateError
from reconciler.files import schemacheck
from reconciler.files.modelfiles import open_regular
from reconciler.files.yamltext import MAX_FILE_BYTES, SUSPECT_BYTES, check_text, decode, empty, strip_bom, too_large

SCHEMA_HINT = "see schemas/model.schema.json"
EXPECTED_MODEL = f"a mapping with at least 'name:'; {SCHEMA_HINT}"


@dataclass(frozen=True, eq=False)
class Document:
    """One file's plain data. `line(path)` re-reads the text, so only error paths pay for lines."""

    data: dict[str, Any]
    source: str
    text: str = field(default="", repr=False)
    schema_valid: bool | None = field(default=None, repr=False)  # None: not checked yet

    def line(self, path: Sequence[str | int]) -> int:
        """1-based line of the deepest node on `path` (JSON-pointer steps, e.g. ["versions", "3",
        "stage"]) that the file has; 1 when the document has no text (built in memory)."""
        if not self.text:
            return 1
        from reconciler.files.yamlstrict import line_of  # PyYAML is imported only when a file needs it

        return line_of(self.text, path)


def read_model_file(path: Path) -> Document:
    """Read and parse one file (no schema check: see schemacheck.check)."""
    return parse(_read_bytes(path), str(path))


def read_text(path: Path) -> str:
    """A file's checked text (UTF-8, size, characters), for code that edits it (import)."""
    text = decode(strip_bom(_read_bytes(path)), str(path))
    check_text(text, str(path))
    return text


def _read_bytes(path: Path) -> bytes:
    """A regular file's bytes, never through a symbolic link (modelfiles.open_regular)."""
    try:
        f, size = open_regular(path)
        with f:
            if size > MAX_FILE_BYTES:
                raise too_large(str(path))
            raw = f.read(size + 1)  # one buffer of the right size; the +1 notices a file that grew
            if len(raw) > size:
                raw += f.read(MAX_FILE_BYTES + 1 - len(raw))
    except OSError as e:
        raise DesiredStateError(f"{path}: cannot read the file ({e.strerror}); check it exists and is readable") from e
    if len(raw) > MAX_FILE_BYTES:
        raise too_large(str(path))
    return raw


def parse(content: str | bytes, source: str, expected: str = EXPECTED_MODEL) -> Document:
    """Bytes (UTF-8, optional BOM) or text -> Document, or a one-line DesiredStateError naming
    `source`, the line and what to do. `expected`: what the top level must be, for that message."""
    if isinstance(content, bytes):
        raw = strip_bom(content)
        text = decode(raw, source)
    else:
        text = content[1:] if content.startswith("\ufeff") else content
        raw = text.encode("utf-8", "surrogatepass")
        if len(raw) > MAX_FILE_BYTES:
            raise too_large(source)
    classes = raw.translate(_CLASSES)  # one pass over the bytes answers most questions below
    if _SUSPECT in classes or not raw or raw.isspace():
        check_text(text, source)
    data = _read_fast(text) if _fast_reader_safe(text, raw, classes) else None
    if data is not None:
        return Document(data, source, text, schema_valid=True)
    return Document(read_reference(text, source, expected), source, text)


def read_reference(text: str, source: str, expected: str = EXPECTED_MODEL) -> dict[str, Any]:
    """The reference reading of checked text (see yamltext.check_text)."""
    from reconciler.files.yamlstrict import build

    data = build(text, source)
    if data is None:
        raise empty(source)
    if not isinstance(data, dict):
        raise DesiredStateError(f"{source}:1: expected {expected}")
    return data


# The fast reader handles the plain subset of YAML: no tags, directives, explicit keys, merge keys
# or escapes that make refused characters; aliases within a budget. Byte classes flag text that
# may hold one of those (_SPECIAL) or a refused character (_SUSPECT); a closer look follows only
# then. A false alarm costs time; a miss would let the readers disagree.
_SUSPECT, _SPECIAL = b"\x00", b"\x01"
_CLASSES = bytes(
    0 if b in SUSPECT_BYTES else 1 if b in b"!%?\\" else 48 if b in b"0123456789" else 32 if b == 9 else b
    for b in range(256)
)
_EMPTY_BLOCK_AT_END = re.compile(r"[|>][0-9+-]*[ \t]*(?:#[^\n]*)?\Z")
_DELIMITERS = frozenset(" \t\r\n[]{},:")
_ESCAPE = re.compile(r"\\[0abvfeNLPxuU]")  # escapes that can make characters these files must not hold
# Alias expansion within this budget; past it the reference reader counts (MAX_NODES) and explains.
# With at most FAST_MAX_BYTES of text (2+ bytes a node) the total stays under MAX_NODES.
_ALIAS_BUDGET = yaml_rs.AliasLimits(max_total_replayed_events=10_000)
FAST_MAX_BYTES = 256 * 1024
_MAX_VERSION_KEY = 10**12


def _needs_reference(text: str) -> bool:
    return (
        _at_node_start(text, "!")  # a tag
        or text.startswith("%")  # a directive
        or "\n%" in text
        or _at_node_start(text, "?", before_space=True)  # an explicit key
        or ("\\" in text and _ESCAPE.search(text) is not None)
    )


def _at_node_start(text: str, char: str, before_space: bool = False) -> bool:
    i = text.find(char)
    while i >= 0:
        after = text[i + 1 : i + 2]
        if (i == 0 or text[i - 1] in _DELIMITERS) and (not before_space or after in ("", " ", "\t", "\r", "\n")):
            return True
        i = text.find(char, i + 1)
    return False


def _fast_reader_safe(text: str, raw: bytes, classes: bytes) -> bool:
    if _SPECIAL in classes and _needs_reference(text):
        return False
    if b"<<" in raw:  # a merge key
        return False
    if (b"|" in raw or b">" in raw) and (not raw.endswith(b"\n") or _EMPTY_BLOCK_AT_END.search(text[-300:].rstrip())):
        return False  # it adds a newline to a last block scalar without a final line break, or an empty one
    # It recurses once per block level and crashes past several thousand; numbers of 100+ digits
    # take it quadratic time. Indentation under 48 columns and at most 400 `- ` entries bound the
    # depth well below that (flow nesting it limits itself).
    return (
        len(raw) <= FAST_MAX_BYTES
        and b"0" * 100 not in classes
        and b" " * 48 not in classes
        and (classes.count(b"- ") <= 400)
    )


def _read_fast(text: str) -> dict[str, Any] | None:
    """The data, if the fast reader can vouch for it: a mapping, valid against the schema. Else None."""
    try:
        data = yaml_rs.loads(text, parse_datetime=False, alias_limits=_ALIAS_BUDGET)
    except ValueError:  # YAMLDecodeError: invalid YAML, too many aliases; the reference reader explains
        return None
    if type(data) is not dict:
        return None
    versions = data.get("versions")
    if type(versions) is dict and not all(type(k) is str for k in versions):
        keys = [str(k) if type(k) is int and abs(k) < _MAX_VERSION_KEY else k for k in versions]
        if len(set(keys)) != len(keys) or not all(type(k) is str for k in keys):
            return None  # colliding or non-number keys: the reference reader says which
        data["versions"] = dict(zip(keys, versions.values(), strict=True))
    return data if schemacheck.is_valid(data) else None
