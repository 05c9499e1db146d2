"""Who changed a model, what and when: the audit journal's applies joined with the git history of
the model's file, by commit. Pure: the journal entries and the log come in as values.

Three kinds of line: an apply of a merged commit (both sides), a commit that changed the file but
was never applied (refused, failed, or merged without the apply workflow), and an apply no commit
of this history explains (run by hand, or from another branch).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from reconciler.audit import describe
from reconciler.github.gitlocal import LogEntry
from reconciler.journal import Entry

MIN_SHA = 7


@dataclass(frozen=True)
class Line:
    when: datetime
    kind: str  # "applied", "not applied", "applied (no commit)"
    commit: str | None = None
    subject: str = ""
    author: str = ""
    pull_request: str | None = None
    approved_by: tuple[str, ...] = ()
    applied_by: str | None = None
    state: str = ""  # the journal's: applied, failed, incomplete, interrupted, applying
    changes: tuple[str, ...] = ()
    run_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "when": self.when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "kind": self.kind,
            "commit": self.commit,
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


def _matches(recorded: str | None, sha: str) -> bool:
    return bool(recorded) and len(recorded or "") >= MIN_SHA and sha.lower().startswith((recorded or "").lower())


def _changes(entry: Entry, model: str) -> tuple[str, ...]:
    out = []
    for i, c in enumerate(entry.changes):
        if c.address.model == model:
            outcome = entry.outcomes.get(i)
            out.append(describe(c) + (f"  [{outcome}]" if outcome and outcome != "applied" else ""))
    return tuple(out)


def _applied(entry: Entry, model: str, commit: LogEntry | None) -> Line:
    a = entry.audit
    return Line(
        when=_utc(a.applied_at),
        kind="applied" if commit else "applied (no commit)",
        commit=commit.sha if commit else a.commit,
        subject=commit.subject if commit else "",
        author=commit.author if commit else "",
        pull_request=a.pull_request,
        approved_by=a.approvers,
        applied_by=a.actor,
        state=entry.state,
        changes=_changes(entry, model),
        run_id=entry.run_id,
    )


def join(model: str, entries: Sequence[Entry], log: Sequence[LogEntry]) -> list[Line]:
    """Newest first, in the order of the branch's history; each commit with its applies (a re-run
    applies again), and applies no commit explains placed by time among them."""
    by_commit: dict[str, list[Line]] = {}
    orphans: list[Line] = []
    for entry in entries:
        commit = next((c for c in log if _matches(entry.audit.commit, c.sha)), None)
        line = _applied(entry, model, commit)
        if commit is None:
            orphans.append(line)
        else:
            by_commit.setdefault(commit.sha, []).append(line)
    lines: list[Line] = []
    for c in log:
        applies = sorted(by_commit.get(c.sha, []), key=lambda line: line.when, reverse=True)
        lines += applies or [Line(c.date.astimezone(timezone.utc), "not applied", c.sha, c.subject, c.author)]
    for orphan in sorted(orphans, key=lambda line: line.when):
        at = next((i for i, line in enumerate(lines) if line.when <= orphan.when), len(lines))
        lines.insert(at, orphan)
    return lines
