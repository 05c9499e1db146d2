"""GitHub's REST API through githubkit, as the few typed calls the commands make.

Every text sent (comments, issues, commit statuses) is masked first (reconciler/masking.py), in
the one method every call goes through (`request`), so no call can post a credential.

Every call says, when GitHub refuses it, which request it was, what GitHub answered and what to
do (usually: the permission the job's token needs). Lists are read 100 per page, so the number of
calls grows with pages, not with items. githubkit's HTTP cache is off: a list read right after an
update must see the update.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol, cast

from reconciler.github.errors import GitHubError
from reconciler.masking import clip, mask

PER_PAGE = 100
MAX_STATUS = 140  # characters of a commit status's description (GitHub's limit)
StatusState = Literal["error", "failure", "pending", "success"]


@dataclass(frozen=True)
class Comment:
    id: int
    author: str
    body: str


@dataclass(frozen=True)
class Review:
    """A submitted review as GitHub lists it (state: APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED)."""

    id: int
    user: str
    state: str
    commit_id: str
    submitted_at: datetime | None


@dataclass(frozen=True)
class Pull:
    number: int
    head_sha: str
    base_ref: str
    author: str
    merged: bool
    title: str
    html_url: str


@dataclass(frozen=True)
class IssueRef:
    number: int
    body: str
    html_url: str


class GitHubApi(Protocol):
    """The GitHub REST calls the Actions commands make: `Client` (githubkit) satisfies it."""

    def comments(self, number: int) -> list[Comment]: ...

    def create_comment(self, number: int, body: str, permission: str = "pull-requests: write") -> Comment: ...

    def update_comment(self, comment_id: int, body: str) -> None: ...

    def delete_comment(self, comment_id: int) -> None: ...

    def reviews(self, number: int) -> list[Review]: ...

    def pulls_for_commit(self, sha: str) -> list[Pull]: ...

    def set_status(self, sha: str, state: str, context: str, description: str, target_url: str | None) -> None: ...

    def open_issues(self, label: str) -> list[IssueRef]: ...

    def create_issue(self, title: str, body: str, label: str) -> IssueRef: ...

    def update_issue(self, number: int, *, body: str | None = None, close: bool = False) -> None: ...

    def ensure_label(self, name: str, color: str, description: str) -> None: ...

    def team_members(self, org: str, team: str) -> frozenset[str]: ...


class Client:
    """One repository's API. `members`: a second client whose token may read team membership."""

    def __init__(self, api_url: str, token: str, repository: str):
        self.api_url = api_url.rstrip("/")
        self.owner, self.repo = repository.split("/", 1)
        self.gh = _masked_github()(token, base_url=self.api_url + "/", http_cache=False, timeout=30)

    # -- comments ---------------------------------------------------------------------------------
    def comments(self, number: int) -> list[Comment]:
        with _explained("list the comments of", f"#{number}", "pull-requests: read"):
            pages: Iterable[Any] = self.gh.rest.paginate(
                self.gh.rest.issues.list_comments,
                owner=self.owner,
                repo=self.repo,
                issue_number=number,
                per_page=PER_PAGE,
            )
            return [Comment(c.id, c.user.login if c.user else "", c.body or "") for c in pages]

    def create_comment(self, number: int, body: str, permission: str = "pull-requests: write") -> Comment:
        """`permission`: what the job needs to comment here ("issues: write" on an issue)."""
        with _explained("comment on", f"#{number}", permission):
            c = self.gh.rest.issues.create_comment(self.owner, self.repo, number, body=body).parsed_data
            return Comment(c.id, c.user.login if c.user else "", c.body or "")

    def update_comment(self, comment_id: int, body: str) -> None:
        with _explained("update", f"comment {comment_id}", "pull-requests: write"):
            self.gh.rest.issues.update_comment(self.owner, self.repo, comment_id, body=body)

    def delete_comment(self, comment_id: int) -> None:
        with _explained("delete", f"comment {comment_id}", "pull-requests: write"):
            self.gh.rest.issues.delete_comment(self.owner, self.repo, comment_id)

    # -- pull requests, reviews, statuses --------------------------------------------------------
    def reviews(self, number: int) -> list[Review]:
        with _explained("list the reviews of", f"#{number}", "pull-requests: read"):
            pages: Iterable[Any] = self.gh.rest.paginate(
                self.gh.rest.pulls.list_reviews, owner=self.owner, repo=self.repo, pull_number=number, per_page=PER_PAGE
            )
            return [
                Review(r.id, r.user.login if r.user else "", r.state.upper(), r.commit_id or "", _time(r.submitted_at))
                for r in pages
            ]

    def pulls_for_commit(self, sha: str) -> list[Pull]:
        with _explained("find the pull requests of", f"commit {sha[:12]}", "contents: read"):
            pages: Iterable[Any] = self.gh.rest.paginate(
                self.gh.rest.repos.list_pull_requests_associated_with_commit,
                owner=self.owner,
                repo=self.repo,
                commit_sha=sha,
                per_page=PER_PAGE,
            )
            return [
                Pull(
                    p.number,
                    p.head.sha,
                    p.base.ref,
                    p.user.login if p.user else "",
                    bool(p.merged_at),
                    p.title,
                    p.html_url,
                )
                for p in pages
            ]

    def set_status(self, sha: str, state: str, context: str, description: str, target_url: str | None) -> None:
        with _explained("set the commit status of", f"commit {sha[:12]}", "statuses: write"):
            self.gh.rest.repos.create_commit_status(
                self.owner,
                self.repo,
                sha,
                state=cast(StatusState, state),
                context=context,
                description=clip(description, MAX_STATUS),
                target_url=target_url,
            )

    # -- issues -----------------------------------------------------------------------------------
    def open_issues(self, label: str) -> list[IssueRef]:
        """Open issues with `label`, oldest first; pull requests (which GitHub lists too) left out."""
        with _explained("list the issues labelled", repr(label), "issues: read"):
            pages: Iterable[Any] = self.gh.rest.paginate(
                self.gh.rest.issues.list_for_repo,
                owner=self.owner,
                repo=self.repo,
                labels=label,
                state="open",
                direction="asc",
                per_page=PER_PAGE,
            )
            return [IssueRef(i.number, i.body or "", i.html_url) for i in pages if not i.pull_request]

    def create_issue(self, title: str, body: str, label: str) -> IssueRef:
        with _explained("open", "an issue", "issues: write"):
            i = self.gh.rest.issues.create(self.owner, self.repo, title=title, body=body, labels=[label]).parsed_data
            return IssueRef(i.number, i.body or "", i.html_url)

    def update_issue(self, number: int, *, body: str | None = None, close: bool = False) -> None:
        changes: dict[str, Any] = {"body": body} if body is not None else {}
        if close:
            changes.update(state="closed", state_reason="completed")
        with _explained("update", f"issue #{number}", "issues: write"):
            self.gh.rest.issues.update(self.owner, self.repo, number, **changes)

    def ensure_label(self, name: str, color: str, description: str) -> None:
        from githubkit.exception import RequestFailed

        with _explained("create", f"label {name!r}", "issues: write"):
            try:
                self.gh.rest.issues.get_label(self.owner, self.repo, name)
            except RequestFailed as e:
                if e.response.status_code != 404:
                    raise
                self.gh.rest.issues.create_label(self.owner, self.repo, name=name, color=color, description=description)

    # -- teams ------------------------------------------------------------------------------------
    def team_members(self, org: str, team: str) -> frozenset[str]:
        """Logins of the team's members (lower case). Needs a token that may read the organization's
        members: a GitHub App installation token or a fine-grained token with `members: read`."""
        from githubkit.exception import RequestFailed

        try:
            pages: Iterable[Any] = self.gh.rest.paginate(
                self.gh.rest.teams.list_members_in_org, org=org, team_slug=team, per_page=PER_PAGE
            )
            return frozenset(m.login.lower() for m in pages)
        except RequestFailed as e:
            status = e.response.status_code
            if status in (401, 403, 404):
                raise GitHubError(
                    f"cannot read the members of @{org}/{team} (HTTP {status}{_message(e)}): the policy names this "
                    "team, and GITHUB_TOKEN cannot read team membership; give the job a token that can (a GitHub "
                    "App installation token, or a fine-grained token with organization 'members: read') as "
                    "RECONCILER_MEMBERS_TOKEN, and check the team's name"
                ) from None
            raise _failed(e, "list the members of", f"@{org}/{team}", "members: read") from None


@functools.cache
def _masked_github() -> Any:
    """githubkit's client whose `request` (every REST call's) masks the strings of the JSON body."""
    from githubkit import GitHub

    class MaskedGitHub(GitHub):
        def request(self, method: str, url: Any, *, json: Any = None, **kwargs: Any) -> Any:
            return super().request(method, url, json=_masked(json), **kwargs)

    return MaskedGitHub


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_masked(v) for v in value]
    return value


def _time(value: Any) -> datetime | None:
    return value if isinstance(value, datetime) else None


def _message(e: Any) -> str:
    try:
        message = e.response.json().get("message")
    except ValueError:
        message = None
    return f": {clip(str(message), 200)}" if message else ""


def _failed(e: Any, verb: str, what: str, permission: str) -> GitHubError:
    status = e.response.status_code
    request = f"{e.request.method} {e.request.url.path}"
    hint = {
        401: "the token is missing, expired or revoked; check the step's GITHUB_TOKEN or --token",
        403: f"the job's token lacks permission: add `{permission}` to the job's `permissions:`",
        404: "check GITHUB_REPOSITORY and the number, and that the token can see the repository",
    }.get(status, "GitHub may be having trouble: re-run the job")
    return GitHubError(f"GitHub refused to {verb} {what} ({request}: HTTP {status}{_message(e)}); {hint}")


@contextmanager
def _explained(verb: str, what: str, permission: str) -> Iterator[None]:
    from githubkit.exception import RequestError, RequestFailed

    try:
        yield
    except RequestFailed as e:
        raise _failed(e, verb, what, permission) from None
    except RequestError as e:
        raise GitHubError(f"cannot reach GitHub to {verb} {what}: {e}; check GITHUB_API_URL and re-run") from None
