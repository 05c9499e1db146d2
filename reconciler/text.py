"""Text helpers for showing values that come from files or the registry: visible escapes for
control characters, HTML-safe Markdown, long values shown where they differ, plurals; and the one
line-ending rule of the commands that rewrite a user's file."""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from reconciler.errors import DesiredStateError
from reconciler.masking import mask

WINDOW_LEAD = 20  # characters shown before the first difference of two long values


def printable(text: str) -> str:
    """Control, format (bidi overrides, zero-width) and other invisible characters as escapes; and
    in text that is not NFC, every non-ASCII character too, so that `jose\\u0301` (NFD) is told
    apart from `josé` (NFC): MLflow keeps them as two names that otherwise look the same."""
    if text.isascii() and text.isprintable():
        return text
    if unicodedata.is_normalized("NFC", text):
        return text if text.isprintable() else "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
    return "".join(ch if ch.isascii() and ch.isprintable() else _code_point(ch) for ch in text)


def json_text(value: object, **options: Any) -> str:
    """JSON as json.dumps writes it with ensure_ascii=False, except that every invisible character
    outside ASCII (bidi overrides such as U+202E, U+2028/U+2029, zero-width, ...) is written as its
    \\u escape: the same JSON value, but a terminal or a reviewer cannot be misled by it. Outside
    ASCII such characters can only stand inside strings, where an escape means the same."""
    out = json.dumps(value, ensure_ascii=False, **options)
    if out.isascii():
        return out
    return "".join(ch if ch.isascii() or ch.isprintable() else _json_escape(ch) for ch in out)


def _json_escape(ch: str) -> str:
    return json.dumps(ch)[1:-1]  # ensure_ascii: \\uXXXX, or a surrogate pair past U+FFFF


def _code_point(ch: str) -> str:
    n = ord(ch)
    return f"\\x{n:02x}" if n <= 0xFF else f"\\u{n:04x}" if n <= 0xFFFF else f"\\U{n:08x}"


def md_code(text: str) -> str:
    """A value as inline code in GitHub Markdown, whatever it holds: every ASCII punctuation
    character becomes an HTML entity, so nothing in it is markup, HTML or a table separator;
    inside <code>, GitHub makes no @mention or link of it. Masked first (reconciler/masking.py):
    once escaped, a URI no longer looks like one to the GitHub client's masking."""
    if not text:
        return ""
    safe = "".join(ch if ch.isalnum() or ch == " " else f"&#{ord(ch)};" for ch in printable(mask(text)))
    return f"<code>{safe}</code>"


def difference(before: str, after: str, width: int) -> tuple[str, str]:
    """repr() of both strings; when either is longer than `width`, only a window starting a little
    before their first difference, marked with … and the character position."""
    b, a = repr(before), repr(after)
    if len(b) <= width and len(a) <= width:
        return b, a
    prefix = _common_prefix(before, after)
    start = max(0, prefix - WINDOW_LEAD)
    return _window(before, start, width), _window(after, start, width)


def _common_prefix(x: str, y: str) -> int:
    n = min(len(x), len(y))
    i = 0
    while i < n and x[i] == y[i]:
        i += 1
    return i


def _window(value: str, start: int, width: int) -> str:
    room = max(10, width - 24)
    part = value[start : start + room]
    cut = start + room < len(value)
    shown = ("…" if start else "") + repr(part) + ("…" if cut else "")
    if start:
        return f"{shown} (from char {start + 1:,} of {len(value):,})"
    return f"{shown} ({len(value):,} characters)" if cut else shown


def plural(n: int, word: str, words: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (words or word + 's')}"


def line_endings(text: str, source: str) -> tuple[str, str]:
    """The text with LF line ends, and the ending to give back ("\r\n" when every line had CRLF,
    as a Windows checkout writes it), for every command that rewrites a file the user keeps (a
    model file, CODEOWNERS): an edit of the LF text, given that ending back, is a diff of the lines
    it changed, not of the whole file (ruamel's round-trip writer, say, keeps CR on comment lines
    only). Mixed endings are refused: which one to write is not for the command to choose."""
    crlf = text.count("\r\n")
    if not crlf:
        return text, "\n"
    if crlf != text.count("\n"):
        line = next(i for i, ln in enumerate(text.split("\n"), 1) if not ln.endswith("\r"))
        raise DesiredStateError(
            f"{source}:{line}: the file mixes CRLF and LF line endings; give every line the same ending "
            "(e.g. `git add --renormalize`), then run again"
        )
    return text.replace("\r\n", "\n"), "\r\n"
