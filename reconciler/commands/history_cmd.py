"""reconciler history MODEL: who changed the model, what and when (audit journal + git log)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import click
from rich.text import Text

from reconciler import api, history
from reconciler.commands import err, models_dir_option, out, status
from reconciler.errors import ReconcilerError
from reconciler.github.gitlocal import Git, LogEntry
from reconciler.journal import Journal
from reconciler.text import printable


@click.command("history")
@click.argument("model")
@models_dir_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True, help="Applies to read.")
def command(model: str, models_dir: Path, fmt: str, limit: int) -> int:
    """Applies of MODEL from the audit journal, joined with the git history of its file by commit."""
    session = api.Session.open()
    with status(f"Reading the audit journal of {session.target.describe()}…"):
        from reconciler.clients import translate_errors

        with translate_errors(session.target):
            entries = Journal(session.clients.registry).history(model, limit)
    lines = history.join(model, entries, _log(models_dir, model), _file_at(models_dir, model))
    if fmt == "json":
        click.echo(json.dumps([line.to_json() for line in lines], indent=2, ensure_ascii=False))
    else:
        _print(model, lines)
    return 0


def _log(models_dir: Path, model: str) -> list[LogEntry]:
    git = Git(Path.cwd())
    if git.run("rev-parse", "--is-inside-work-tree", ok=(0, 128)).returncode != 0:
        err.print(f"warning: {Path.cwd()} is not a git checkout: showing the audit journal only")
        return []
    found: list[LogEntry] = []
    for suffix in (".yaml", ".yml"):
        try:
            found += git.log(str(models_dir / f"{model}{suffix}"))
        except ReconcilerError:
            continue
    return found


def _file_at(models_dir: Path, model: str) -> Callable[[str], str | None]:
    git = Git(Path.cwd())
    paths = [str(models_dir / f"{model}{suffix}") for suffix in (".yaml", ".yml")]

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
        sha = (line.commit or "")[:12] or "-"
        pr = f" PR #{printable(line.pull_request)}" if line.pull_request else ""
        style = {"applied": "green", "not applied": "yellow"}.get(line.kind, "cyan")
        subject = "" if line.file_commit else printable(line.subject)
        out.print(Text(f"{when}  {line.kind:<19} {sha}{pr}  {subject}", style=style))
        if line.file_commit:
            out.print(f"    the file as of {line.file_commit[:12]}: {printable(line.subject)}")
        if line.author:
            out.print(f"    committed by {printable(line.author)}")
        if line.kind != "not applied":
            approvers = ", ".join(map(printable, line.approved_by)) or "nobody recorded"
            out.print(f"    applied by {printable(line.applied_by or '?')}; approved by {approvers}; {line.state}")
        for change in line.changes:
            out.print(f"    {printable(change)}")
