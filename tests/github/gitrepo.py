"""The fake's repository content: a real (bare) git repository, written with git's plumbing.

Pull request files, commits and compare results are computed by git itself from the commits a test
makes, and the workflow runner's checkout fetches the very same commits, so what the API says a pull
request changes is what the checked-out workspace contains. Commit times come from a counter, so
shas are reproducible within a test.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

EPOCH = datetime(2026, 1, 5, 9, 0, 0, tzinfo=timezone.utc)
_STATUS = {"A": "added", "D": "removed", "M": "modified", "R": "renamed", "C": "copied", "T": "changed"}


class GitError(RuntimeError):
    pass


@dataclass(frozen=True)
class FileChange:
    """One entry of a diff, as GitHub's diff-entry describes it."""

    filename: str
    status: str
    additions: int
    deletions: int
    blob_sha: str
    patch: str | None
    previous_filename: str | None = None


@dataclass(frozen=True)
class Link:
    """A symbolic link in a commit (git's mode 120000): its blob is the target's path."""

    target: str


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    tree: str
    parents: tuple[str, ...]
    message: str
    author_login: str
    date: datetime


class GitRepo:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._clock = 0
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "--quiet", "--bare", "--initial-branch=main")

    # -- plumbing -------------------------------------------------------------------------------
    def git(self, *args: str, stdin: str | None = None, env: Mapping[str, str] | None = None) -> str:
        full_env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.path),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_DIR": str(self.path),
            "LC_ALL": "C",
            **(env or {}),
        }
        done = subprocess.run(["git", *args], input=stdin, capture_output=True, text=True, env=full_env, check=False)
        if done.returncode != 0:
            raise GitError(f"git {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def now(self) -> datetime:
        """The fake's clock: one minute later on every call (commits, reviews, comments share it)."""
        self._clock += 1
        return EPOCH + timedelta(minutes=self._clock)

    def _identity(self, login: str, when: datetime) -> dict[str, str]:
        stamp = f"{int(when.timestamp())} +0000"
        email = f"{login}@users.noreply.github.com"
        return {
            "GIT_AUTHOR_NAME": login,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_AUTHOR_DATE": stamp,
            "GIT_COMMITTER_NAME": login,
            "GIT_COMMITTER_EMAIL": email,
            "GIT_COMMITTER_DATE": stamp,
        }

    # -- writing ----------------------------------------------------------------------------------
    def commit(
        self,
        branch: str,
        files: Mapping[str, str | Link | None],
        message: str = "Change files",
        author: str = "octocat",
        parent: str | None = None,
    ) -> str:
        """Commit `files` (path -> content, a Link, None deletes) on top of `parent` (default: the branch tip)."""
        parent = parent or self.tip(branch)
        index = {"GIT_INDEX_FILE": str(self.path / f"index-{os.getpid()}-{self._clock}")}
        try:
            if parent:
                self.git("read-tree", parent, env=index)
            else:
                self.git("read-tree", "--empty", env=index)
            lines = []
            for name, content in files.items():
                if content is None:
                    lines.append(f"0 {'0' * 40}\t{name}\n")
                elif isinstance(content, Link):
                    blob = self.git("hash-object", "-w", "--stdin", stdin=content.target).strip()
                    lines.append(f"120000 {blob}\t{name}\n")
                else:
                    blob = self.git("hash-object", "-w", "--stdin", stdin=content).strip()
                    lines.append(f"100644 {blob}\t{name}\n")
            self.git("update-index", "--index-info", stdin="".join(lines), env=index)
            tree = self.git("write-tree", env=index).strip()
        finally:
            Path(index["GIT_INDEX_FILE"]).unlink(missing_ok=True)
        sha = self._commit_tree(tree, [parent] if parent else [], message, author)
        self.git("update-ref", f"refs/heads/{branch}", sha)
        return sha

    def _commit_tree(self, tree: str, parents: list[str], message: str, author: str) -> str:
        args = ["commit-tree", tree, *[a for p in parents for a in ("-p", p)], "-m", message]
        return self.git(*args, env=self._identity(author, self.now())).strip()

    def merge_commit(self, base: str, head: str, message: str, author: str) -> str:
        """A merge commit of `head` into `base` (not referenced by any branch); raises on conflicts."""
        try:
            tree = self.git("merge-tree", "--write-tree", base, head).splitlines()[0]
        except GitError as e:
            raise GitError(f"{head[:7]} does not merge cleanly into {base[:7]}: {e}") from e
        return self._commit_tree(tree, [base, head], message, author)

    def set_ref(self, ref: str, sha: str) -> None:
        self.git("update-ref", ref, sha)

    # -- reading ----------------------------------------------------------------------------------
    def tip(self, branch: str) -> str | None:
        try:
            return self.git("rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}").strip()
        except GitError:
            return None

    def resolve(self, ref: str) -> str | None:
        try:
            return self.git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").strip()
        except GitError:
            return None

    def merge_base(self, a: str, b: str) -> str:
        return self.git("merge-base", a, b).strip()

    def is_ancestor(self, a: str, b: str) -> bool:
        try:
            self.git("merge-base", "--is-ancestor", a, b)
        except GitError:
            return False
        return True

    def commits_between(self, base: str, head: str) -> list[str]:
        """Commits reachable from `head` and not from `base`, oldest first (GitHub's order)."""
        return self.git("rev-list", "--reverse", "--topo-order", f"{base}..{head}").split()

    def info(self, sha: str) -> CommitInfo:
        fields = self.git("show", "-s", "--format=%H%x00%T%x00%P%x00%an%x00%at%x00%B", sha).split("\x00", 5)
        return CommitInfo(
            sha=fields[0],
            tree=fields[1],
            parents=tuple(fields[2].split()),
            author_login=fields[3],
            date=datetime.fromtimestamp(int(fields[4]), tz=timezone.utc),
            message=fields[5].rstrip("\n"),
        )

    def read(self, sha: str, path: str) -> str | None:
        try:
            return self.git("show", f"{sha}:{path}")
        except GitError:
            return None

    def diff(self, base: str, head: str) -> list[FileChange]:
        """The three-dot diff GitHub shows: from the merge base of `base` and `head` to `head`."""
        start = self.merge_base(base, head)
        numstat = self.git("diff", "--numstat", "-M", "-z", start, head)
        status = self.git("diff", "--name-status", "-M", "-z", start, head)
        patches = _split_patches(self.git("diff", "-M", "--no-color", start, head))
        blobs = dict(_blobs(self.git("ls-tree", "-r", "-z", head)))
        changes = []
        for (code, names), (adds, dels) in zip(_name_status(status), _numstat(numstat), strict=True):
            name = names[-1]
            changes.append(
                FileChange(
                    filename=name,
                    status=_STATUS[code[0]],
                    additions=adds,
                    deletions=dels,
                    blob_sha=blobs.get(name, "0" * 40),
                    patch=patches.get(name),
                    previous_filename=names[0] if code[0] in "RC" else None,
                )
            )
        return changes


def _name_status(out: str) -> list[tuple[str, list[str]]]:
    parts, rows, i = out.split("\x00"), [], 0
    while i < len(parts) and parts[i]:
        code = parts[i]
        width = 2 if code[0] in "RC" else 1
        rows.append((code, parts[i + 1 : i + 1 + width]))
        i += 1 + width
    return rows


def _numstat(out: str) -> list[tuple[int, int]]:
    parts, rows, i = out.split("\x00"), [], 0
    while i < len(parts) and parts[i]:
        adds, dels, name = parts[i].split("\t", 2)
        rows.append((int(adds) if adds != "-" else 0, int(dels) if dels != "-" else 0))
        i += 3 if name == "" else 1  # a rename is followed by its two names
    return rows


def _split_patches(out: str) -> dict[str, str]:
    patches: dict[str, str] = {}
    for chunk in out.split("\ndiff --git ")[0:]:
        header, _, body = chunk.partition("\n@@")
        if not body:
            continue
        target = next((line[6:] for line in header.splitlines() if line.startswith("+++ b/")), None)
        if target is None:
            target = next(line[6:] for line in header.splitlines() if line.startswith("--- a/"))
        patches[target] = "@@" + body.rstrip("\n")
    return patches


def _blobs(out: str) -> list[tuple[str, str]]:
    rows = []
    for entry in filter(None, out.split("\x00")):
        meta, name = entry.split("\t", 1)
        rows.append((name, meta.split()[2]))
    return rows
