"""Who changed a model, what and when: the audit journal's applies joined with the git history of
the model's file, by commit. Pure: the journal entries and the log come in as values.

Three kinds of line: an apply of a merged commit (both sides), a commit that changed the file but
was never applied (refused, failed, or merged without the apply workflow), and an apply no commit
of this history explains (run by hand, or from another branch). A commit older than the applies
read (`--limit`) is neither: it is "older than the window", since its apply may be past it. An
apply made at a later commit that did not touch the file (`reconciler apply --commit HEAD` after
other work) applied the file as its last change left it: it joins that change's commit (`file_at`
resolves it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from reconciler.apply.audit import describe
from reconciler.apply.journal import Entry
from reconciler.git import LogEntry

MIN_SHA = 7
OLDER = "older than the window"  # a commit from before the applies read: the journal may hold its apply


@dataclass(frozen=True)
class Line:
    when: datetime
    kind: str  # "applied", "not applied", "applied (no commit)", OLDER
    commit: str | None = None  # the commit applied (for an apply, the one it recorded)
    subject: str = ""
    author: str = ""
    pull_request: str | None = None
    approved_by: tuple[str, ...] = ()
    applied_by: str | None = None
    state: str = ""  # the journal's: applied, failed, incomplete, interrupted, applying
    changes: tuple[str, ...] = ()
    run_id: str | None = None
    file_commit: str | None = None  # the commit that last changed the file, when not `commit` itself

    def to_json(self) -> dict[str, Any]:
        return {
            "when": self.when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "kind": self.kind,
            "commit": self.commit,
            "file_commit": self.file_commit,
            "subject": self.subject,
            "author": self.author,
            "pull_request": self.pull_request,
            "approved_by": list(self.approved_by),
            "applied_by": self.applied_by,
            "state": self.state,
            "changes": list(self.changes),
            "journal_run": self.run_id,
        }


def _utc(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        return datetime.min.replace(tzinfo=timezone.utc)


def applied_at(entry: Entry) -> datetime:
    return _utc(entry.audit.applied_at)


def _matches(recorded: str | None, sha: str) -> bool:
    return bool(recorded) and len(recorded or "") >= MIN_SHA and sha.lower().startswith((recorded or "").lower())


def _changes(entry: Entry, model: str) -> tuple[str, ...]:
    out = []
    for i, c in enumerate(entry.changes):
        if c.address.model == model:
            outcome = entry.outcomes.get(i)
            out.append(describe(c) + (f"  [{outcome}]" if outcome and outcome != "applied" else ""))
    return tuple(out)


def _applied(entry: Entry, model: str, commit: LogEntry | None, direct: bool) -> Line:
    a = entry.audit
    return Line(
        when=applied_at(entry),
        kind="applied" if commit else "applied (no commit)",
        commit=commit.sha if commit and direct else a.commit,
        file_commit=None if commit is None or direct else commit.sha,
        subject=commit.subject if commit else "",
        author=commit.author if commit else "",
        pull_request=a.pull_request,
        approved_by=a.approvers,
        applied_by=a.actor,
        state=entry.state,
        changes=_changes(entry, model),
        run_id=entry.run_id,
    )


def join(
    model: str,
    entries: Sequence[Entry],
    log: Sequence[LogEntry],
    file_at: Callable[[str], str | None] = lambda commit: None,
    oldest: datetime | None = None,
) -> list[Line]:
    """Newest first, in the order of the branch's history; each commit with its applies (a re-run
    applies again), and applies no commit explains placed by time among them. `file_at(commit)`:
    the commit that last changed the file as of `commit` (None if unknown). `oldest`: when the
    journal holds applies older than those read (the window), the time of the oldest read; a
    commit before it without an apply in the window is OLDER, not "not applied"."""
    by_commit: dict[str, list[Line]] = {}
    orphans: list[Line] = []
    for entry in entries:
        recorded = entry.audit.commit
        commit = next((c for c in log if _matches(recorded, c.sha)), None)
        direct = commit is not None
        if commit is None and recorded and len(recorded) >= MIN_SHA:
            last = file_at(recorded)
            commit = next((c for c in log if last and c.sha == last), None)
        line = _applied(entry, model, commit, direct)
        if commit is None:
            orphans.append(line)
        else:
            by_commit.setdefault(commit.sha, []).append(line)
    lines: list[Line] = []
    for c in log:
        applies = sorted(by_commit.get(c.sha, []), key=lambda line: line.when, reverse=True)
        when = c.date.astimezone(timezone.utc)
        kind = OLDER if oldest is not None and when < oldest else "not applied"
        lines += applies or [Line(when, kind, c.sha, c.subject, c.author)]
    for orphan in sorted(orphans, key=lambda line: line.when):
        at = next((i for i, line in enumerate(lines) if line.when <= orphan.when), len(lines))
        lines.insert(at, orphan)
    return lines
