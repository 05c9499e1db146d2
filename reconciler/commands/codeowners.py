"""reconciler codeowners: write (or --check) the models/ lines of .github/CODEOWNERS.

Offline and quick (pre-commit runs it): it reads the files only, and imports nothing of MLflow.
"""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.atomic import check_target, write_atomic
from reconciler.commands import models_dir_option, out
from reconciler.errors import ReconcilerError
from reconciler.governance.codeowners import FIX, CodeownersError, block, render
from reconciler.governance.repository import load_checked
from reconciler.text import line_endings


@click.command("codeowners")
@models_dir_option
@click.option(
    "--file",
    "codeowners",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path(".github/CODEOWNERS"),
    show_default=True,
    help="The CODEOWNERS file to write.",
)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when the file is not up to date.")
def command(models_dir: Path, codeowners: Path, check: bool) -> int:
    """Write the CODEOWNERS lines for models/ from the owners in the model files and the policy."""
    policy, models = load_checked(models_dir)
    root = _repository_root(codeowners)
    lines = block(models, policy, _relative(models_dir, root))
    existing = _read(codeowners)
    lf, newline = (None, "\n") if existing is None else line_endings(existing, str(codeowners))
    wanted = render(lf, lines, str(codeowners)).replace("\n", newline)
    if wanted == existing:
        out.print(f"{codeowners} is up to date ({len(models)} model file(s)).")
        return 0
    if check:
        raise CodeownersError(f"{codeowners} is out of date for the owners in {models_dir}; {FIX}")
    write_atomic(codeowners, wanted)
    out.print(f"Wrote {codeowners} ({len(models)} model file(s)).")
    return 0


def _repository_root(codeowners: Path) -> Path:
    """CODEOWNERS lives in .github/, docs/ or the root; its patterns are relative to the root."""
    parent = codeowners.resolve().parent
    return parent.parent if parent.name in (".github", "docs") else parent


def _relative(models_dir: Path, root: Path) -> str:
    try:
        return models_dir.resolve().relative_to(root).as_posix()
    except ValueError:
        raise ReconcilerError(
            f"{models_dir} is not inside the repository of {root}; run from the repository root or pass --file"
        ) from None


def _read(path: Path) -> str | None:
    """The text as it is on disk: its CRs kept (read_text would make CRLF LF) for line_endings."""
    if check_target(path) is None:  # a FIFO or a link is refused before it is read
        return None
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as e:
        raise ReconcilerError(f"{path}: cannot read it ({e}); fix the file or its permissions") from e
