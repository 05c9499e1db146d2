"""`.github/CODEOWNERS` lines for models/, from the model files' `owners:` and the policy's owners.

The generated lines live between two marker lines; every other line of the file is kept. Later
lines win in CODEOWNERS, so the block is: the policy's owners for models/ as a whole (new files),
then one line per model file, then models/_policy.yaml. CODEOWNERS takes gitignore patterns
without character classes: a space is escaped (`\\ `), and a character with no literal form (`[`
and `]`, which GitHub rejects as a range; other whitespace, which a parser may split on) is
matched with `*`, on a line placed before the exact ones so that those win for every other file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath

from reconciler.errors import ReconcilerError
from reconciler.governance.policy import POLICY_FILE, ReviewPolicy
from reconciler.governance.principals import mention
from reconciler.state import DesiredModel

BEGIN = "# BEGIN reconciler (generated)"
END = "# END reconciler"
NOTE = "# Owners of models/, from each file's owners: and models/_policy.yaml; 'reconciler codeowners' rewrites this."
FIX = "run 'reconciler codeowners' to update it"
UNWRITABLE = "[]*?\\"  # model names cannot hold the last three; a file name could


class CodeownersError(ReconcilerError):
    """CODEOWNERS is out of date, or its generated block is damaged."""


def _escape(path: str) -> tuple[str, bool]:
    """(CODEOWNERS pattern text, exact?) for a literal path."""
    out, exact = [], True
    for ch in path:
        if ch in UNWRITABLE or (ch.isspace() and ch != " "):
            out.append("*")  # no literal form (a range, a wildcard, a space a parser may split on)
            exact = False
        else:
            out.append("\\ " if ch == " " else ch)
    return "".join(out), exact


def _line(pattern: str, owners: Sequence[str]) -> str:
    return " ".join([pattern, *(mention(o) for o in owners)])


def block(models: Sequence[DesiredModel], policy: ReviewPolicy, models_dir: str = "models") -> list[str]:
    """The generated lines, markers included. `models_dir`: the directory's path from the repository root."""
    root = PurePosixPath(models_dir).as_posix().strip("/")
    if root in ("", "."):
        raise CodeownersError("model files at the repository root get no CODEOWNERS lines; keep them in models/")
    _check_owners([*policy.owners, *(o for m in models for o in m.owners)])
    prefix = f"/{_escape(root)[0]}/"
    wildcard: list[str] = []
    exact: list[str] = []
    for name, m in sorted(((PurePosixPath(m.source.replace("\\", "/")).name, m) for m in models), key=_first):
        pattern, is_exact = _escape(name)
        (exact if is_exact else wildcard).append(_line(prefix + pattern, m.owners or policy.owners))
    lines = [BEGIN, NOTE]
    if policy.owners:
        lines.append(_line(prefix, policy.owners))
    lines += wildcard + exact
    if policy.owners:
        lines.append(_line(prefix + POLICY_FILE, policy.owners))
    return [*lines, END]


def _check_owners(owners: Sequence[str]) -> None:
    for o in owners:  # the schemas already refuse these; a CODEOWNERS line must never be split
        if not o or any(ch.isspace() or not ch.isprintable() for ch in o):
            raise CodeownersError(f"owner {o!r} cannot go into CODEOWNERS; owners are GitHub logins or @org/teams")


def render(existing: str | None, lines: Sequence[str], source: str = ".github/CODEOWNERS") -> str:
    """The file with its generated block replaced (or appended); other lines kept as they are."""
    text = existing or ""
    current = text.splitlines()
    begins = [i for i, line in enumerate(current) if line.strip() == BEGIN]
    ends = [i for i, line in enumerate(current) if line.strip() == END]
    if not begins and not ends:
        before = current + ([""] if current and current[-1].strip() else [])
        return "\n".join([*before, *lines]) + "\n"
    if len(begins) != 1 or len(ends) != 1 or ends[0] < begins[0]:
        raise CodeownersError(
            f"{source}: the generated block is damaged (expected one {BEGIN!r} line, then one {END!r} line); "
            f"remove what is left of it and {FIX}"
        )
    return "\n".join([*current[: begins[0]], *lines, *current[ends[0] + 1 :]]) + "\n"


def _first(pair: tuple[str, DesiredModel]) -> str:
    return pair[0]
