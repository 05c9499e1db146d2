"""One proposal pull request per model, kept current: `reconciler propose --open-pr`.

The branch `reconciler/propose/<model>` holds one commit on top of the base branch: the model
file as `propose` edited it. The pull request body ends with a marker (reconciler/proposal/body.py)
naming the version, the branch tip and base it was made from, and a digest of the body. A run:

- finds the model's pull request by its branch (open first, else the newest closed one);
- refuses to touch a branch or body that no longer matches the marker (edited by hand): reported;
- leaves alone an open proposal of a newer version (two trainings finishing out of order);
- else resets the branch to the base tip, commits the file (the contents API, with the blob being
  replaced: a file that changed on the base since this checkout is a 409, reported) and opens or
  updates the pull request, with a comment when a newer version replaces an older one.

GitHub calls: at most eight, whatever the number of models or pull requests. A conflict (a branch
moved, a pull request opened by a concurrent run, a branch a concurrent run committed to but has
not opened its pull request for yet) restarts the run from its reads, three times; two runs
finishing at once leave one pull request, naming the newer version.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from reconciler.github.client import Client, _explained
from reconciler.github.errors import GitHubError
from reconciler.masking import clip
from reconciler.proposal import body as proposal_body
from reconciler.proposal.local import Proposal

BRANCH_PREFIX = "reconciler/propose/"
MAX_BODY = 65_000  # GitHub refuses bodies past 65,536 characters
ATTEMPTS = 3
RETRY_PAUSE = 1.0  # seconds, times the attempt: a concurrent run opens its pull request meanwhile


class Conflict(Exception):
    """Something moved between this run's reads and its writes: read again."""


@dataclass(frozen=True)
class PullInfo:
    number: int
    state: str
    body: str
    head_sha: str
    html_url: str
    title: str = ""


@dataclass(frozen=True)
class Outcome:
    ok: bool
    message: str
    number: int | None = None


def branch_name(model: str) -> str:
    """A branch name git accepts for any model name: a readable slug and a digest of the name."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", model).strip("-")[:60] or "model"
    return f"{BRANCH_PREFIX}{slug}-{hashlib.sha256(model.encode()).hexdigest()[:8]}"


def blob_sha(text: str) -> str:
    data = text.encode()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class ProposalClient(Client):
    """The GitHub client the other commands use, plus branches, file commits and pull requests: what
    training's proposals (below) and rollback proposals (reconciler/github/rollback.py) write."""

    def default_branch(self) -> str:
        with _explained("read", f"repository {self.owner}/{self.repo}", "contents: read"):
            return str(self.gh.rest.repos.get(self.owner, self.repo).parsed_data.default_branch)

    def branch_tip(self, branch: str) -> str | None:
        from githubkit.exception import RequestFailed

        with _explained("read", f"branch {branch!r}", "contents: read"):
            try:
                ref = self.gh.rest.git.get_ref(self.owner, self.repo, quote(f"heads/{branch}", safe=""))
            except RequestFailed as e:
                if e.response.status_code == 404:
                    return None
                raise
            return str(ref.parsed_data.object_.sha)

    def set_branch(self, branch: str, sha: str, exists: bool) -> None:
        from githubkit.exception import RequestFailed

        with _explained("move", f"branch {branch!r}", "contents: write"):
            try:
                if exists:
                    ref = quote(f"heads/{branch}", safe="")
                    self.gh.rest.git.update_ref(self.owner, self.repo, ref, sha=sha, force=True)
                else:
                    self.gh.rest.git.create_ref(self.owner, self.repo, ref=f"refs/heads/{branch}", sha=sha)
            except RequestFailed as e:
                if e.response.status_code == 422:
                    raise Conflict(f"branch {branch!r} changed meanwhile") from None
                raise

    def commit_file(self, branch: str, path: str, text: str, replaces: str, message: str) -> str:
        from githubkit.exception import RequestFailed

        content = base64.b64encode(text.encode()).decode()
        with _explained("commit", f"{path} on {branch!r}", "contents: write"):
            try:
                done = self.gh.rest.repos.create_or_update_file_contents(
                    self.owner,
                    self.repo,
                    quote(path, safe=""),
                    message=message,
                    content=content,
                    sha=replaces,
                    branch=branch,
                )
            except RequestFailed as e:
                if e.response.status_code == 409:
                    raise Conflict(f"{path} on {branch!r} is not the file this checkout has") from None
                raise
            return str(done.parsed_data.commit.sha)

    def proposal_pulls(self, branch: str) -> list[PullInfo]:
        """Pull requests from `branch` of this repository, open or closed, newest first."""
        with _explained("list the pull requests of", f"branch {branch!r}", "pull-requests: read"):
            found = self.gh.rest.pulls.list(
                self.owner, self.repo, head=f"{self.owner}:{branch}", state="all", direction="desc", per_page=10
            ).parsed_data
            return [PullInfo(p.number, p.state, p.body or "", p.head.sha, p.html_url, p.title) for p in found]

    def open_pull(self, branch: str, base: str, title: str, body: str) -> PullInfo:
        from githubkit.exception import RequestFailed

        with _explained("open", f"a pull request from {branch!r}", "pull-requests: write"):
            try:
                p = self.gh.rest.pulls.create(self.owner, self.repo, title=title, head=branch, base=base, body=body)
            except RequestFailed as e:
                if e.response.status_code == 422 and "already exists" in e.response.text:
                    raise Conflict("a pull request was opened meanwhile") from None
                raise
            d = p.parsed_data
            return PullInfo(d.number, d.state, d.body or "", d.head.sha, d.html_url, d.title)

    def edit_pull(self, number: int, title: str, body: str) -> None:
        with _explained("update", f"pull request #{number}", "pull-requests: write"):
            self.gh.rest.pulls.update(self.owner, self.repo, number, title=title, body=body)


def publish(gh: ProposalClient, p: Proposal, models_dir: Path, base: str | None) -> Outcome:
    path = _repo_path(p.path)
    base = base or gh.default_branch()
    for attempt in range(ATTEMPTS):
        try:
            return _publish_once(gh, p, path, base, last=attempt == ATTEMPTS - 1)
        except Conflict:
            time.sleep(RETRY_PAUSE * (attempt + 1))
    raise GitHubError(
        f"the proposal branch of {p.evidence.model!r} or {path} on the base kept changing while proposing "
        f"({ATTEMPTS} tries); re-run the job on the newest base branch"
    )


def _repo_path(path: Path) -> str:
    if path.is_absolute() or ".." in path.parts:
        raise GitHubError(f"{path}: --open-pr needs the model file as a path inside the checkout; run from its root")
    return path.as_posix()


def _publish_once(gh: ProposalClient, p: Proposal, path: str, base: str, last: bool) -> Outcome:
    e = p.evidence
    branch = branch_name(e.model)
    base_sha = gh.branch_tip(base)
    if base_sha is None:
        raise GitHubError(f"no branch {base!r} on GitHub; check --base")
    tip = gh.branch_tip(branch)
    pulls = gh.proposal_pulls(branch)
    current = next((pr for pr in pulls if pr.state == "open"), None)
    ours = _check_ours(branch, tip, current, pulls, base_sha)
    if isinstance(ours, Outcome):
        if ours.number is None and not last:
            raise Conflict("a branch without a pull request: perhaps a concurrent run, between its commit and its PR")
        return ours
    marker = ours
    if current is not None and marker is not None and marker.version > e.candidate:
        return Outcome(
            True,
            f"#{current.number} proposes {e.model} v{marker.version}, newer than v{e.candidate}: left as it is",
            current.number,
        )
    if current is not None and marker is not None and (marker.version, marker.base) == (e.candidate, base_sha):
        head = tip or marker.head  # the same version on the same base: the commit stands, the evidence is refreshed
    else:
        if tip != base_sha:  # at the base tip already: no reset, so a concurrent run's commit is never lost
            gh.set_branch(branch, base_sha, exists=tip is not None)
        message = f"Propose {e.model} v{e.candidate} as {e.proposes}\n\nMade by `reconciler propose --open-pr`."
        head = _commit(gh, branch, base, base_sha, path, p, message)
    text = _body(p, path, head, base_sha)
    title = proposal_body.title(e)
    if current is None:
        pr = gh.open_pull(branch, base, title, text)
        return Outcome(True, f"opened #{pr.number}: {title} ({pr.html_url})", pr.number)
    gh.edit_pull(current.number, title, text)
    if marker is not None and marker.version < e.candidate:
        gh.create_comment(
            current.number,
            f"Superseded: training registered v{e.candidate}, which replaces v{marker.version} in this proposal.",
        )
        return Outcome(True, f"updated #{current.number}: v{e.candidate} replaces v{marker.version}", current.number)
    return Outcome(True, f"updated #{current.number}: {title} ({current.html_url})", current.number)


def _commit(gh: ProposalClient, branch: str, base: str, base_sha: str, path: str, p: Proposal, message: str) -> str:
    """The file committed on the branch (just reset to the base tip). A 409 means the file there is
    not the one this checkout edited: a concurrent run committed first (read again), or the base
    branch changed the file since the checkout (re-run on the newest base)."""
    try:
        return gh.commit_file(branch, path, p.edit.text, blob_sha(p.before), message)
    except Conflict:
        if gh.branch_tip(branch) != base_sha:
            raise
    raise GitHubError(
        f"{path} on {base!r} is not the file this checkout has (changed since it was checked out); "
        "nothing was proposed: re-run the job on the newest base branch"
    )


def _check_ours(
    branch: str, tip: str | None, current: PullInfo | None, pulls: list[PullInfo], base_sha: str
) -> proposal_body.Marker | Outcome | None:
    """The marker of the proposal this branch holds (None: no branch, no pull request), or the
    report of a branch or pull request someone edited by hand."""
    if current is not None:
        read = proposal_body.read_marker(current.body)
        if read is None:
            return _hand(current, "its body has no proposal marker (not opened by `reconciler propose`)")
        marker, intact = read
        if not intact:
            return _hand(current, "its body was edited by hand")
        if tip != marker.head:
            return _hand(current, f"its branch {branch!r} has commits `reconciler propose` did not make")
        return marker
    if tip is None or tip == base_sha:
        return None  # no branch, or one with no commit of its own (a run stopped half-way): nothing to lose
    made = [m for m in (proposal_body.read_marker(pr.body) for pr in pulls) if m is not None]
    if any(m.head == tip and intact for m, intact in made):
        return None  # the branch of a closed proposal: reused
    return Outcome(
        False,
        f"branch {branch!r} exists and was not made by `reconciler propose` (or was changed since); "
        "left as it is: delete it or rename it, then re-run",
    )


def _hand(pr: PullInfo, why: str) -> Outcome:
    return Outcome(
        False,
        f"#{pr.number} ({pr.html_url}): {why}; left as it is. Close it (or delete its branch) to let training "
        "propose again",
        pr.number,
    )


def _body(p: Proposal, path: str, head: str, base: str) -> str:
    e = p.evidence
    text = clip(proposal_body.render(e, path), MAX_BODY)
    return proposal_body.with_marker(text, proposal_body.Marker(e.model, e.candidate, head, base, ""))
