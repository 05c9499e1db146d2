"""Who an owner or approver entry names. GitHub logins and team slugs are case-insensitive, and
"alice" and "@alice" are the same user; "@org/team" (or "org/team") is a team."""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.governance.policyschema import MODEL_OWNERS


def principal(entry: str) -> str:
    """The canonical form: "alice" for a user, "@org/team" for a team (lower case)."""
    name = entry.strip().lower().removeprefix("@")
    return f"@{name}" if "/" in name else name


def is_team(p: str) -> bool:
    return p.startswith("@")


def mention(entry: str) -> str:
    """As CODEOWNERS and GitHub write it: "@alice", "@org/team"."""
    return "@" + entry.strip().removeprefix("@")


def expand(from_: Iterable[str], owners: Iterable[str]) -> tuple[str, ...]:
    """`from` entries with "model-owners" replaced by `owners`, each principal once, in order."""
    out: dict[str, str] = {}
    owners = tuple(owners)
    for entry in from_:
        for e in owners if entry == MODEL_OWNERS else (entry,):
            out.setdefault(principal(e), e)
    return tuple(out.values())


def same(a: Iterable[str], b: Iterable[str]) -> bool:
    return {principal(x) for x in a} == {principal(x) for x in b}
