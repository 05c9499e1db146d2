"""git in the job's checkout: files as they are at a commit (the base branch's rules), what a merge
changed, whether files changed since a reviewed commit, and a file's history.

A pull request's run checks out its test merge commit; with `fetch-depth: 2` its parents (the base
and the head) are there too. Anything else is fetched from `origin` by sha, one fetch for all.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from reconciler.errors import GitHubError
from reconciler.files.modelfiles import Entry, Kind
from reconciler.masking import clip

MODELS_DIR = "models"
REGULAR = ("100644", "100755")  # git's modes of regular files
KINDS = {"100644": Kind.FILE, "100755": Kind.FILE, "120000": Kind.LINK, "040000": Kind.DIRECTORY}  # else: OTHER


def literal_paths() -> dict[str, str]:
    """The environment for git: every path it is given is literal, never a glob (`history 'a[bc]'`
    read the history of ab.yaml and ac.yaml too)."""
    return {**os.environ, "GIT_LITERAL_PATHSPECS": "1"}


@dataclass(frozen=True)
class LogEntry:
    sha: str
    author: str
    date: datetime
    subject: str


class Git:
    def __init__(self, cwd: Path, remote: str = "origin"):
        self.cwd = cwd
        self.remote = remote

    def run(self, *args: str, stdin: str | None = None, ok: Sequence[int] = (0,)) -> subprocess.CompletedProcess:
        try:
            done = subprocess.run(
                ["git", *args],
                cwd=self.cwd,
                input=stdin,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
                env=literal_paths(),
            )
        except FileNotFoundError:
            raise GitHubError("git is not installed; the GitHub commands read the checkout with git") from None
        if done.returncode not in ok:
            raise GitHubError(
                f"git {' '.join(args[:3])} failed in {self.cwd}: {clip(done.stderr.strip(), 300)}; run the command in "
                "the repository's checkout (actions/checkout with fetch-depth: 2)"
            )
        return done

    def has(self, sha: str) -> bool:
        return self.run("cat-file", "-e", f"{sha}^{{commit}}", ok=(0, 1, 128)).returncode == 0

    def ensure(self, shas: Iterable[str]) -> set[str]:
        """Fetch the commits the checkout lacks, in one fetch; returns those still missing
        (e.g. force-pushed away and gone from the server)."""
        missing = sorted({s for s in shas if not self.has(s)})
        if missing:
            self.run("fetch", "--quiet", "--no-tags", "--depth=1", self.remote, *missing, ok=(0, 1, 128))
        return {s for s in missing if not self.has(s)}

    def parent(self, sha: str) -> str:
        self.ensure([sha])
        parents = self.run("rev-list", "--parents", "-n", "1", sha).stdout.split()[1:]
        if not parents:
            raise GitHubError(f"commit {sha[:12]} has no parent; check out with fetch-depth: 2")
        if not self.has(parents[0]):
            self.ensure(parents[:1])
        return parents[0]

    def changed(self, a: str, b: str) -> list[str]:
        """Paths that differ between two commits (a rename counts as both its paths)."""
        out = self.run("diff", "--name-only", "--no-renames", "-z", a, b).stdout
        return sorted(p for p in out.split("\0") if p)

    def unchanged_since(self, commit: str, head: str, prefix: str = MODELS_DIR) -> bool:
        if commit == head:
            return True
        return self.run("diff", "--quiet", commit, head, "--", f"{prefix}/", ok=(0, 1)).returncode == 0

    def modes(self, sha: str, paths: Sequence[str]) -> dict[str, str]:
        """The entries among `paths` that exist at `sha`: path -> git mode ("100644", "120000" a link...)."""
        if not paths:
            return {}
        listed = self.run("ls-tree", "-z", sha, "--", *paths).stdout.split("\0")
        return {row.split("\t", 1)[1]: row.split(" ", 1)[0] for row in listed if row}

    def entries(self, sha: str, paths: Sequence[str]) -> list[Entry]:
        """The entries among `paths` that exist at `sha`, by file name, as modelfiles.select takes them
        (a submodule, 160000, is OTHER)."""
        return [Entry(PurePosixPath(p).name, KINDS.get(m, Kind.OTHER)) for p, m in self.modes(sha, paths).items()]

    def files(self, sha: str, paths: Sequence[str]) -> dict[str, bytes]:
        """The regular files among `paths` that exist at `sha` (path -> content), read in one
        `git cat-file --batch`; a symbolic link's blob (its target's name) is never read as a file."""
        names = [p for p, mode in self.modes(sha, paths).items() if mode in REGULAR]
        if not names:
            return {}
        out = subprocess.run(
            ["git", "cat-file", "--batch"],
            cwd=self.cwd,
            input="".join(f"{sha}:{p}\n" for p in names).encode(),
            capture_output=True,
            check=True,
            env=literal_paths(),
        ).stdout
        return dict(zip(names, _batch(out), strict=True))

    def log(self, path: str) -> list[LogEntry]:
        """The commits of the first-parent history (merges of pull requests) that changed `path`, newest first."""
        out = self.run("log", "--first-parent", "--format=%H%x00%an%x00%aI%x00%s%x00", "--", path).stdout
        parts = out.split("\0")
        return [
            LogEntry(parts[i].strip(), parts[i + 1], datetime.fromisoformat(parts[i + 2]), parts[i + 3])
            for i in range(0, len(parts) - 4, 4)
        ]


def _batch(out: bytes) -> list[bytes]:
    """Contents from `git cat-file --batch` output: '<sha> <type> <size>\\n<content>\\n' each."""
    texts, i = [], 0
    while i < len(out):
        header_end = out.index(b"\n", i)
        size = int(out[i:header_end].split()[2])
        start = header_end + 1
        texts.append(out[start : start + size])
        i = start + size + 1
    return texts
