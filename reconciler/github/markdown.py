"""Markdown the GitHub commands post: the parts around the plan (rendered by reconciler/plan/render.py),
the result of an apply, a refused merge, the drift issue. Every value from files, the registry or
GitHub goes through `md_code`, so none of it can open a comment, a tag, a link or a mention.
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.plan import render
from reconciler.plan.values import Change
from reconciler.text import md_code

MAX_BODY = 65_000  # GitHub refuses comment and issue bodies over 65,536 characters
CUT_NOTE = "**The plan is too long for a comment; the whole plan is in the job summary of {where}.**"


def short(sha: str) -> str:
    return md_code(sha[:12])


def link(text: str, url: str | None) -> str:
    return f"[{text}]({url})" if url else text


def cut(plan_md: str, room: int, note: str) -> str:
    """The plan within `room` characters: cut at a line, with `note` saying where the whole plan is."""
    if len(plan_md) <= room:
        return plan_md
    keep = plan_md[: max(room - len(note) - 2, 0)].rsplit("\n", 1)[0]
    return keep + "\n\n" + note


def join(parts: Sequence[str]) -> str:
    return "\n\n".join(p.rstrip("\n") for p in parts if p) + "\n"


def change_lines(changes: Sequence[Change], limit: int = 50) -> list[str]:
    """Changes as a Markdown list (`~ v2 stage: 'Staging' -> 'Production'`), the first `limit` of them."""
    lines = [f"- {md_code(c.address.model)} {md_code(render.line(c))}" for c in changes[:limit]]
    if len(changes) > limit:
        lines.append(f"- … and {len(changes) - limit} more")
    return lines


def difference(shown: Sequence[Change], now: Sequence[Change]) -> list[str]:
    """What the plan at merge has that the reviewed plan had not, and the other way round."""
    added = [c for c in now if c not in shown]
    gone = [c for c in shown if c not in now]
    out = []
    if added:
        out += ["In the plan now, not in the plan reviewed:", "", *change_lines(added), ""]
    if gone:
        out += ["In the plan reviewed, not in the plan now:", "", *change_lines(gone), ""]
    if not out:
        out = ["The same changes, computed against a different registry state (see the plans' hashes).", ""]
    return out
