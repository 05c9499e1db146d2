"""reconciler history MODEL: who changed the model, what and when (audit journal + git log)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

import click
from rich.text import Text

from reconciler import engine
from reconciler.apply import history
from reconciler.apply.journal import Entry, Journal
from reconciler.commands import err, models_dir_option, out, status
from reconciler.errors import ReconcilerError
from reconciler.files.modelfiles import SUFFIXES, model_files
from reconciler.git import Git, LogEntry
from reconciler.text import json_text, printable


@click.command("history")
@click.argument("model")
@models_dir_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True, help="Applies to read.")
def command(model: str, models_dir: Path, fmt: str, limit: int) -> int:
    """Applies of MODEL from the audit journal, joined with the git history of its file by commit."""
    session = engine.Session.open()
    with status(f"Reading the audit journal of {session.target.describe()}…"):
        from reconciler.registry.clients import translate_errors

        with translate_errors(session.target):
            entries = Journal(session.clients.registry).history(model, limit)
    oldest = _window_start(entries, limit)
    lines = history.join(model, entries, _log(models_dir, model), _file_at(models_dir, model), oldest)
    if fmt == "json":
        click.echo(json_text([line.to_json() for line in lines], indent=2))
    else:
        _print(model, lines)
        if any(line.kind == history.OLDER for line in lines):
            out.print(
                f"Commits marked '{history.OLDER}' are older than the {limit} newest applies read: the journal may "
                "hold their applies; pass a larger --limit (up to 1000) to judge them."
            )
    return 0


def _window_start(entries: Sequence[Entry], limit: int) -> datetime | None:
    """The time of the oldest apply read when the journal may hold more (as many as `limit` were read)."""
    if len(entries) < limit:
        return None
    return min(history.applied_at(e) for e in entries)


def _paths(models_dir: Path, model: str) -> list[str]:
    """The model's file (as modelfiles finds it: `.YAML` too) and the names it may have had; git
    takes each as a literal path (gitlocal sets GIT_LITERAL_PATHSPECS)."""
    files = model_files(models_dir) if models_dir.is_dir() or models_dir.is_symlink() else []
    current = [p for p in files if p.stem == model]
    return list(dict.fromkeys(str(p) for p in (*current, *(models_dir / f"{model}{s}" for s in SUFFIXES))))


def _log(models_dir: Path, model: str) -> list[LogEntry]:
    git = Git(Path.cwd())
    if git.run("rev-parse", "--is-inside-work-tree", ok=(0, 128)).returncode != 0:
        err.print(f"warning: {Path.cwd()} is not a git checkout: showing the audit journal only")
        return []
    found: list[LogEntry] = []
    for path in _paths(models_dir, model):
        try:
            found += git.log(path)
        except ReconcilerError:
            continue
    return found


def _file_at(models_dir: Path, model: str) -> Callable[[str], str | None]:
    git = Git(Path.cwd())
    paths = _paths(models_dir, model)

    def last_change(commit: str) -> str | None:
        if commit.startswith("-"):
            return None
        done = git.run("log", "-1", "--first-parent", "--format=%H", commit, "--", *paths, ok=(0, 128))
        return done.stdout.strip() or None if done.returncode == 0 else None

    return last_change


def _print(model: str, lines: list[history.Line]) -> None:
    if not lines:
        out.print(f"No applies of {printable(model)} in the audit journal, and no commits of its file.")
        return
    for line in lines:
        when = line.when.strftime("%Y-%m-%d %H:%M:%SZ")
        sha = printable((line.commit or "")[:12]) or "-"  # recorded as given: escaped like the actor
        pr = f" PR #{printable(line.pull_request)}" if line.pull_request else ""
        style = {"applied": "green", "not applied": "yellow", history.OLDER: "dim"}.get(line.kind, "cyan")
        subject = "" if line.file_commit else printable(line.subject)
        out.print(Text(f"{when}  {line.kind:<21} {sha}{pr}  {subject}", style=style))
        if line.file_commit:
            out.print(f"    the file as of {line.file_commit[:12]}: {printable(line.subject)}")
        if line.author:
            out.print(f"    committed by {printable(line.author)}")
        if line.kind not in ("not applied", history.OLDER):
            approvers = ", ".join(map(printable, line.approved_by)) or "nobody recorded"
            out.print(f"    applied by {printable(line.applied_by or '?')}; approved by {approvers}; {line.state}")
        for change in line.changes:
            out.print(f"    {printable(change)}")
