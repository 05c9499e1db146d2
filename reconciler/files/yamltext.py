"""Checks on a file's bytes and text before any YAML parser sees them."""

from __future__ import annotations

import codecs
import re

from reconciler.errors import DesiredStateError

MAX_FILE_BYTES = 1024 * 1024

# In the text and in every string (where escapes such as "\a" or "\ud800" can make them): C0
# controls but tab, newline and carriage return; DEL; C1 controls (NEL, U+0085, is a line break
# to YAML 1.1 readers and text to YAML 1.2 ones); line and paragraph separators (the same split);
# bidirectional controls (they make a reviewer read other text than what is applied); a BOM or a
# noncharacter anywhere but the start.
BAD_IN_TEXT = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ufffe\uffff\ud800-\udfff]"
)
# Bytes that start those characters in UTF-8 (surrogates only come from text handed in as str).
SUSPECT_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F, 0xC2, 0xE2, 0xED, 0xEF])
_NAMES = {"\x00": "NUL", "\x85": "NEL", "\u2028": "LINE SEPARATOR", "\u2029": "PARAGRAPH SEPARATOR", "\ufeff": "BOM"}


def strip_bom(raw: bytes) -> bytes:
    return raw[len(codecs.BOM_UTF8) :] if raw.startswith(codecs.BOM_UTF8) else raw


def decode(raw: bytes, source: str) -> str:
    """UTF-8 -> text, or a one-line error naming the line and byte. Strip the BOM first."""
    if len(raw) > MAX_FILE_BYTES:
        raise too_large(source)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        column = e.start - raw.rfind(b"\n", 0, e.start)
        hint = " (it looks like UTF-16)" if raw[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) else ""
        raise DesiredStateError(
            f"{source}:{line}: not UTF-8{hint}: byte 0x{raw[e.start]:02x} at column {column} "
            f"(offset {e.start}); save the file as UTF-8"
        ) from None
    return text


def too_large(source: str) -> DesiredStateError:
    return DesiredStateError(
        f"{source}: file is larger than {MAX_FILE_BYTES // 1024} KiB; "
        "one model's desired state should be small: split or trim it"
    )


def check_text(text: str, source: str) -> None:
    """Refuse empty text and characters these files must not hold (see BAD_IN_TEXT)."""
    if not text or text.isspace():
        raise empty(source)
    bad = BAD_IN_TEXT.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        column = bad.start() - text.rfind("\n", 0, bad.start())
        raise DesiredStateError(
            f"{source}:{line}: {describe(bad.group())} at column {column} is not allowed; remove it"
        )


def check_value(value: str, source: str, line: int) -> None:
    """Strings built from escapes (`"\\a"`, `"\\ud800"`) obey the same rule as the text."""
    bad = BAD_IN_TEXT.search(value)
    if bad:
        raise DesiredStateError(
            f"{source}:{line}: {describe(bad.group())} in a string is not allowed; remove the escape"
        )


def describe(char: str) -> str:
    code = f"U+{ord(char):04X}"
    if "\u202a" <= char <= "\u202e" or "\u2066" <= char <= "\u2069":
        return f"bidirectional control character {code} (it hides what the text says)"
    if "\ud800" <= char <= "\udfff":
        return f"lone surrogate {code}"
    kind = "control character" if char < "\xa0" else "character"
    name = _NAMES.get(char)
    return f"{kind} {code}" + (f" ({name})" if name else "")


def empty(source: str, expected: str = "at least 'name: <model name>'") -> DesiredStateError:
    return DesiredStateError(f"{source}:1: the file is empty; write {expected} or delete it")
