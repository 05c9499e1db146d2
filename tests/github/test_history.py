"""reconciler history: journal entries joined with git log by commit, in the branch's order."""

from __future__ import annotations

import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest

from reconciler.apply.audit import Audit
from reconciler.apply.history import join
from reconciler.apply.journal import Entry
from reconciler.commands import history
from reconciler.errors import ValidationErrors
from reconciler.git import Git, LogEntry
from reconciler.plan.values import Action, Address, Change

CHAMPION = Change(Address("churn", None, "alias", "champion"), Action.UPDATE, 1, 2)
OTHER = Change(Address("fraud", None, "description"), Action.UPDATE, "a", "b")


def _entry(run: str, commit: str | None, at: str, state: str = "applied") -> Entry:
    audit = Audit("sha256:" + run * 8, commit, "12" if commit else None, ("olivia",), "ci", at)
    return Entry(run, audit, "http://registry", state, (CHAMPION, OTHER), {0: "applied", 1: "failed"})


def _commit(sha: str, day: int, subject: str) -> LogEntry:
    return LogEntry(sha * 40, "alice", datetime(2026, 3, day, tzinfo=timezone.utc), subject)


def test_applies_join_their_commits_and_the_rest_is_placed_in_time():
    log = [
        _commit("c", 3, "Merge pull request #12"),
        _commit("b", 2, "Merged around the apply"),
        _commit("a", 1, "Adopt"),
    ]
    entries = [
        _entry("r2", "c" * 12, "2026-03-03T10:00:00Z"),
        _entry("r3", "c" * 40, "2026-03-03T11:00:00Z"),  # a re-run of the same merge
        _entry("r1", None, "2026-03-01T12:00:00Z"),  # by hand, no commit
    ]

    lines = join("churn", entries, log)

    assert [(line.kind, line.run_id or line.subject) for line in lines] == [
        ("applied", "r3"),
        ("applied", "r2"),
        ("not applied", "Merged around the apply"),
        ("applied (no commit)", "r1"),
        ("not applied", "Adopt"),
    ]
    assert lines[0].changes == ("~ alias[champion]: 1 -> 2",)  # only this model's changes
    assert lines[0].approved_by == ("olivia",) and lines[0].pull_request == "12" and lines[0].commit == "c" * 40
    assert lines[0].to_json()["when"] == "2026-03-03T11:00:00Z"


def test_a_short_or_foreign_commit_does_not_match():
    log = [_commit("d", 4, "x")]
    lines = join("churn", [_entry("r1", "dd", "2026-03-05T00:00:00Z")], log)
    assert [line.kind for line in lines] == ["applied (no commit)", "not applied"]


def test_an_apply_at_a_later_commit_joins_the_commit_that_last_changed_the_file():
    """`reconciler apply --commit HEAD` after commits that did not touch the file applied the file
    as its last change left it: that change is applied, not "not applied"."""
    log = [_commit("b", 2, "Promote v2"), _commit("a", 1, "Adopt")]
    later = "e" * 40  # a commit that did not change the file
    lines = join(
        "churn",
        [_entry("r1", later[:7], "2026-03-04T00:00:00Z")],
        log,
        file_at=lambda commit: "b" * 40 if later.startswith(commit) else None,
    )
    assert [(line.kind, line.commit, line.file_commit) for line in lines] == [
        ("applied", "e" * 7, "b" * 40),
        ("not applied", "a" * 40, None),
    ]
    assert lines[0].subject == "Promote v2" and lines[0].to_json()["file_commit"] == "b" * 40


def _git(repo, *args: str) -> str:
    env = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null", "PATH": "/usr/bin:/bin", "HOME": str(repo)}
    ident = {"GIT_AUTHOR_NAME": "alice", "GIT_AUTHOR_EMAIL": "a@x", "GIT_COMMITTER_NAME": "alice"}
    env.update(ident, GIT_COMMITTER_EMAIL="a@x")
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout


def test_a_model_name_reaches_git_as_a_literal_path_not_a_glob(tmp_path, monkeypatch):
    """`history 'a[bc]'` listed the commits that changed only models/ab.yaml: the name was a glob."""
    (tmp_path / "models").mkdir()
    _git(tmp_path, "init", "--quiet")
    for path, subject in [("ab.yaml", "Adopt ab"), ("a[bc].yaml", "Adopt a[bc]"), ("ab.yaml", "Change ab")]:
        (tmp_path / "models" / path).write_text(f"name: {path[:-5]}\ndescription: {subject}\n")
        _git(tmp_path, "add", "-A")
        _git(tmp_path, "commit", "--quiet", "-m", subject)
    monkeypatch.chdir(tmp_path)

    assert [e.subject for e in history._log(Path("models"), "a[bc]")] == ["Adopt a[bc]"]
    head = _git(tmp_path, "rev-parse", "HEAD").strip()
    adopted = _git(tmp_path, "rev-parse", "HEAD~1").strip()
    assert history._file_at(Path("models"), "a[bc]")(head) == adopted
    assert Git(tmp_path).unchanged_since(adopted, head, "models/a[bc].yaml")


def test_commits_older_than_the_journal_window_are_not_called_not_applied():
    """With --limit 1 only the newest apply is read: the commits before it were labelled "not
    applied" although the journal (past the window) had their applies."""
    log = [_commit("c", 3, "Promote"), _commit("b", 2, "Tune"), _commit("a", 1, "Adopt")]
    entries = [_entry("r3", "c" * 12, "2026-03-03T10:00:00Z")]

    lines = join("churn", entries, log, oldest=datetime(2026, 3, 3, 10, tzinfo=timezone.utc))

    assert [(line.kind, line.subject) for line in lines] == [
        ("applied", "Promote"),
        ("older than the window", "Tune"),
        ("older than the window", "Adopt"),
    ]
    everything = join("churn", entries, log)  # every apply read: the verdict stands
    assert [line.kind for line in everything] == ["applied", "not applied", "not applied"]


def test_a_commit_inside_the_window_without_an_apply_is_not_applied():
    log = [_commit("c", 4, "Unapplied"), _commit("b", 2, "Promote")]
    entries = [_entry("r2", "b" * 12, "2026-03-02T10:00:00Z")]
    lines = join("churn", entries, log, oldest=datetime(2026, 3, 2, 10, tzinfo=timezone.utc))
    assert [line.kind for line in lines] == ["not applied", "applied"]


def test_the_models_file_is_found_by_the_selection_rule(tmp_path, monkeypatch):
    """`.YAML` is a model file like `.yaml` (history looked for .yaml and .yml only); a link in
    models/ is refused as everywhere else."""
    (tmp_path / "models").mkdir()
    _git(tmp_path, "init", "--quiet")
    (tmp_path / "models" / "churn.YAML").write_text("name: churn\n")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "--quiet", "-m", "Adopt churn")
    monkeypatch.chdir(tmp_path)
    assert [e.subject for e in history._log(Path("models"), "churn")] == ["Adopt churn"]

    (tmp_path / "models" / "fraud.yaml").symlink_to("../elsewhere.yaml")
    with pytest.raises(ValidationErrors, match=r"fraud\.yaml: a symbolic link"):
        history._log(Path("models"), "churn")
