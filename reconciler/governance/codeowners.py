"""`.github/CODEOWNERS` lines for models/, from the model files' `owners:` and the policy's owners.

The generated lines live between two marker lines; every other line of the file is kept. Later
lines win in CODEOWNERS, so the block is: the policy's owners for models/ as a whole (new files),
then one line per model file, then models/_policy.yaml. Each file's line names that file and no
other: CODEOWNERS takes gitignore patterns, so every character with a meaning there (`*`, `?`,
`[`, `]`, `\\`, `!`, `#`, a space) is escaped with a backslash. A line could not name a file whose
name holds other whitespace (a no-break space: parsers split lines on it), so such a file gets no
line of its own, and a comment says so: the models/ line (the policy's owners) owns it, as it
owns a new file; a wildcard in its place would also match files added later.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath

from reconciler.errors import ReconcilerError
from reconciler.governance.policy import ReviewPolicy
from reconciler.governance.principals import mention
from reconciler.names import POLICY_FILE
from reconciler.state import DesiredModel
from reconciler.text import printable

BEGIN = "# BEGIN reconciler (generated)"
END = "# END reconciler"
NOTE = "# Owners of models/, from each file's owners: and models/_policy.yaml; 'reconciler codeowners' rewrites this."
FIX = "run 'reconciler codeowners' to update it"
SPECIAL = frozenset("*?[]\\!# ")  # gitignore's pattern characters (and a space): a backslash makes each literal


class CodeownersError(ReconcilerError):
    """CODEOWNERS is out of date, or its generated block is damaged."""


def escape(path: str) -> str | None:
    """The CODEOWNERS pattern text that matches exactly `path`, or None when no pattern can (a
    whitespace character other than a space, which parsers split the line on)."""
    out = []
    for ch in path:
        if ch in SPECIAL:
            out.append("\\" + ch)
        elif ch.isspace():
            return None
        else:
            out.append(ch)
    return "".join(out)


def _line(pattern: str, owners: Sequence[str]) -> str:
    return " ".join([pattern, *(mention(o) for o in owners)])


def block(models: Sequence[DesiredModel], policy: ReviewPolicy, models_dir: str = "models") -> list[str]:
    """The generated lines, markers included. `models_dir`: the directory's path from the repository root."""
    root = PurePosixPath(models_dir).as_posix().strip("/")
    if root in ("", "."):
        raise CodeownersError("model files at the repository root get no CODEOWNERS lines; keep them in models/")
    escaped_root = escape(root)
    if escaped_root is None:
        raise CodeownersError(
            f"{printable(root)}: the directory's name holds a space other than ' ', which no CODEOWNERS pattern "
            "can name; rename it"
        )
    _check_owners([*policy.owners, *(o for m in models for o in m.owners)])
    prefix = f"/{escaped_root}/"
    lines = [BEGIN, NOTE]
    if policy.owners:
        lines.append(_line(prefix, policy.owners))
    for name, m in sorted(((PurePosixPath(m.source.replace("\\", "/")).name, m) for m in models), key=_first):
        pattern = escape(name)
        if pattern is None:
            lines.append(_unnamed(f"{root}/{name}", prefix if policy.owners else None))
        else:
            lines.append(_line(prefix + pattern, m.owners or policy.owners))
    if policy.owners:
        lines.append(_line(prefix + POLICY_FILE, policy.owners))
    return [*lines, END]


def _unnamed(path: str, default: str | None) -> str:
    owner = f"the {default} line owns it" if default else "nobody owns it (the policy names no owners)"
    return f"# {printable(path)}: no pattern names exactly this file (a space other than ' ' in its name): {owner}"


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
