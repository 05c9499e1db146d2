"""The API calls a proposal makes (reconciler/github/rollback.py): a branch reset to a commit, one
file committed to it through the contents API, and the one open pull request from it created or
edited. Same masking and explained errors as every other call (reconciler/github/client.py)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from reconciler.github.client import PER_PAGE, Client, _explained


@dataclass(frozen=True)
class OpenPull:
    number: int
    title: str
    body: str
    html_url: str


class BranchClient(Client):
    def reset_branch(self, branch: str, sha: str) -> None:
        """Create `refs/heads/<branch>` at `sha`, or force it there when it exists."""
        from githubkit.exception import RequestFailed

        with _explained("point", f"branch {branch!r} at {sha[:12]}", "contents: write"):
            try:
                self.gh.rest.git.create_ref(self.owner, self.repo, ref=f"refs/heads/{branch}", sha=sha)
            except RequestFailed as e:
                if e.response.status_code != 422:
                    raise
                self.gh.rest.git.update_ref(self.owner, self.repo, f"heads/{branch}", sha=sha, force=True)

    def put_file(self, branch: str, path: str, text: str, blob_sha: str | None, message: str) -> str:
        """Commit `text` as `path` on `branch` (replacing the blob `blob_sha`); returns the commit."""
        content = base64.b64encode(text.encode("utf-8")).decode()
        extra: dict[str, Any] = {"sha": blob_sha} if blob_sha else {}
        with _explained("commit", f"{path} on {branch!r}", "contents: write"):
            done = self.gh.rest.repos.create_or_update_file_contents(
                self.owner, self.repo, path, message=message, content=content, branch=branch, **extra
            ).parsed_data
            return str(done.commit.sha)

    def open_pull_from(self, branch: str) -> OpenPull | None:
        with _explained("list the pull requests from", repr(branch), "pull-requests: read"):
            found = self.gh.rest.pulls.list(
                self.owner, self.repo, state="open", head=f"{self.owner}:{branch}", per_page=PER_PAGE
            ).parsed_data
        return next((OpenPull(p.number, p.title, p.body or "", p.html_url) for p in found), None)

    def create_pull(self, branch: str, base: str, title: str, body: str) -> OpenPull:
        with _explained("open", f"a pull request from {branch!r}", "pull-requests: write"):
            p = self.gh.rest.pulls.create(
                self.owner, self.repo, title=title, head=branch, base=base, body=body
            ).parsed_data
            return OpenPull(p.number, p.title, p.body or "", p.html_url)

    def update_pull(self, number: int, title: str, body: str) -> None:
        with _explained("update", f"pull request #{number}", "pull-requests: write"):
            self.gh.rest.pulls.update(self.owner, self.repo, number, title=title, body=body)
