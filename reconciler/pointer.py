"""JSON pointers (RFC 6901), the one builder every message uses: `~` is written ~0 and `/` is ~1."""

from __future__ import annotations

from collections.abc import Iterable


def token(step: object) -> str:
    """One reference token: a key or an index, escaped so that `/` and `~` inside it stay unambiguous."""
    return str(step).replace("~", "~0").replace("/", "~1")


def child(parent: str, step: object) -> str:
    """The pointer to `step` inside the value `parent` points to ("" is the whole document)."""
    return f"{parent}/{token(step)}"


def pointer(steps: Iterable[object]) -> str:
    """The pointer to `steps` as messages show it; the whole document is shown as "/" (RFC 6901 spells it "")."""
    return "".join(child("", s) for s in steps) or "/"
