"""The event a workflow run gets: a real webhook payload (@octokit/webhooks-examples), made to agree
with the fake's state, checked against the payload schema in GitHub's OpenAPI description.

    event = events.pull_request(gh, pr.number, "opened")
    event.payload["pull_request"]["head"]["sha"] == pr.head_sha
    event.sha == gh.test_merge_sha(pr.number)      # GITHUB_SHA of a pull_request run
    event.ref == f"refs/pull/{pr.number}/merge"
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from . import bodies, spec
from .bodies import iso
from .contract import describe, schema_errors
from .fake import FakeGitHub
from .npm import ensure_node_modules
from .state import PullRequest, Repo, Review, User

Json = dict[str, Any]
ZERO_SHA = "0" * 40


@dataclass(frozen=True)
class Event:
    """What GitHub hands a workflow run: the event name, its payload, and GITHUB_SHA / GITHUB_REF."""

    name: str
    payload: Json
    sha: str
    ref: str
    actor: str
    head_ref: str = ""
    base_ref: str = ""


@cache
def _examples() -> dict[str, Any]:
    path = ensure_node_modules() / "@octokit" / "webhooks-examples" / "api.github.com" / "index.json"
    return {e["name"]: e["examples"] for e in json.loads(path.read_text())}


def example(event: str, action: str | None = None) -> Json:
    """A fresh copy of the first recorded `event` payload with that `action`."""
    for candidate in _examples()[event]:
        if candidate.get("action") == action and (event != "push" or candidate["ref"].startswith("refs/heads/")):
            return json.loads(json.dumps(candidate))
    raise KeyError(f"@octokit/webhooks-examples has no {event} payload with action {action!r}")


def _rename(value: Any, old: str, new: str) -> Any:
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, dict):
        return {k: _rename(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_rename(v, old, new) for v in value]
    return value


def _user(template: Json, u: User) -> Json:
    body: Json = _rename(template, template["login"], u.login)
    body.update(login=u.login, id=u.id, node_id=f"U_{u.id}", type=u.type, site_admin=False)
    return body


@cache
def _rest_repository() -> str:
    return json.dumps(spec.example("pull-request")["base"]["repo"])


def _repo(template: Json, r: Repo, owner: User) -> Json:
    """The recorded repository, completed with the fields newer payloads carry (from the REST example)."""
    rest = _rename(json.loads(_rest_repository()), "octocat/Hello-World", template["full_name"])
    template = {**{k: v for k, v in rest.items() if k not in template}, **template}
    body: Json = _rename(template, template["full_name"], r.full_name)
    body.update(id=r.id, node_id=f"R_{r.id}", name=r.name, full_name=r.full_name, private=r.private, fork=r.fork)
    body.update(default_branch=r.default_branch, owner=_user(template["owner"], owner))
    body["visibility"] = "private" if r.private else "public"
    if "master_branch" in body:
        body["master_branch"] = r.default_branch
    return body


def _owner(gh: FakeGitHub, r: Repo) -> User:
    return gh.state.users.get(r.owner) or User(r.owner, 9000 + r.id % 1000, "Organization")


def _common(gh: FakeGitHub, payload: Json, actor: str) -> None:
    payload["repository"] = _repo(payload["repository"], gh.repo, _owner(gh, gh.repo))
    payload["sender"] = _user(payload["sender"], gh.user(actor))
    for key in ("installation", "organization", "enterprise"):
        payload.pop(key, None)


def _pull(gh: FakeGitHub, template: Json, pr: PullRequest) -> Json:
    body: Json = _rename(template, template["base"]["repo"]["full_name"], gh.repo.full_name)
    body.update(number=pr.number, id=pr.number + 10_000_000, node_id=f"PR_{pr.number}", title=pr.title, body=pr.body)
    body.update(state=pr.state, draft=pr.draft, merged=pr.merged, merge_commit_sha=pr.merge_commit_sha)
    labels = [bodies.label(lab, gh.state, "https://api.github.com") for lab in map(gh.state.label, pr.labels) if lab]
    body.update(user=_user(template["user"], pr.user), labels=labels, assignee=None, assignees=[], milestone=None)
    body.update(created_at=iso(pr.created_at), updated_at=iso(pr.updated_at), closed_at=iso(pr.closed_at))
    body.update(merged_at=iso(pr.merged_at), merged_by=_user(template["user"], pr.merged_by) if pr.merged_by else None)
    body.update(requested_reviewers=[], requested_teams=[], auto_merge=None, active_lock_reason=None)
    body.update(html_url=f"https://github.com/{gh.repo.full_name}/pull/{pr.number}")
    body.update(url=f"https://api.github.com/repos/{gh.repo.full_name}/pulls/{pr.number}")
    body.update(author_association="CONTRIBUTOR" if pr.head_repo.fork else "MEMBER")
    for side, repo, ref, sha in (
        ("head", pr.head_repo, pr.head_ref, pr.head_sha),
        ("base", gh.repo, pr.base_ref, pr.base_sha),
    ):
        owner = _owner(gh, repo)
        body[side] = dict(body[side], ref=ref, sha=sha, label=f"{repo.owner}:{ref}")
        body[side]["user"] = _user(template[side]["user"], owner)
        body[side]["repo"] = _repo(template[side]["repo"], repo, owner)
    return body


def _validated(name: str, payload: Json) -> Json:
    schema = spec.webhook_schema_name(name, payload.get("action"))
    errors = schema_errors(schema, payload)
    if errors:
        raise AssertionError(f"the {name} payload built for the test breaks {schema}: {describe(errors)}")
    return payload


def pull_request(
    gh: FakeGitHub, number: int, action: str = "opened", before: str | None = None, actor: str | None = None
) -> Event:
    """`pull_request` (opened, synchronize, reopened, closed...). `before` is the old head of a synchronize."""
    pr = gh.state.pulls[number]
    payload = example("pull_request", action)
    _common(gh, payload, actor or pr.user.login)
    payload["number"] = number
    payload["pull_request"] = _pull(gh, payload["pull_request"], pr)
    if action == "synchronize":
        payload.update(before=before or ZERO_SHA, after=pr.head_sha)
    return _pr_event("pull_request", gh, pr, _validated("pull_request", payload), actor or pr.user.login)


def _pr_event(name: str, gh: FakeGitHub, pr: PullRequest, payload: Json, actor: str) -> Event:
    merged = pr.state == "closed" and pr.merged
    sha = pr.merge_commit_sha if merged else gh.test_merge_sha(pr.number)
    assert sha is not None
    return Event(name, payload, sha, f"refs/pull/{pr.number}/merge", actor, pr.head_ref, pr.base_ref)


def pull_request_review(gh: FakeGitHub, review_id: int, action: str = "submitted") -> Event:
    """`pull_request_review` submitted or dismissed, for a review the fake holds."""
    review = next(r for r in gh.state.reviews if r.id == review_id)
    pr = gh.state.pulls[review.pull_number]
    payload = example("pull_request_review", action)
    _common(gh, payload, review.user.login)
    payload["pull_request"] = _pull(gh, payload["pull_request"], pr)
    for key in (
        "merged",
        "mergeable",
        "rebaseable",
        "mergeable_state",
        "comments",
        "review_comments",
        "maintainer_can_modify",
        "commits",
        "additions",
        "deletions",
        "changed_files",
        "merged_by",
    ):
        payload["pull_request"].pop(key, None)  # a review event carries the short pull request object
    payload["review"] = _review(gh, payload["review"], review)
    return _pr_event("pull_request_review", gh, pr, _validated("pull_request_review", payload), review.user.login)


def _review(gh: FakeGitHub, template: Json, review: Review) -> Json:
    html = f"https://github.com/{gh.repo.full_name}/pull/{review.pull_number}#pullrequestreview-{review.id}"
    pull_url = f"https://api.github.com/repos/{gh.repo.full_name}/pulls/{review.pull_number}"
    body = dict(template, id=review.id, node_id=f"PRR_{review.id}", body=review.body or None)
    body.update(user=_user(template["user"], review.user), commit_id=review.commit_id, state=review.state.lower())
    body.update(
        submitted_at=iso(review.submitted_at), html_url=html, pull_request_url=pull_url, author_association="MEMBER"
    )
    body["_links"] = {"html": {"href": html}, "pull_request": {"href": pull_url}}
    return body


def push(gh: FakeGitHub, branch: str, before: str, actor: str = "octocat") -> Event:
    """`push` of `branch` from `before` to its current tip (e.g. the merge of a pull request)."""
    after = gh.git.tip(branch)
    assert after is not None, f"no branch {branch!r}"
    payload = example("push")
    _common(gh, payload, actor)
    shas = gh.git.commits_between(before, after) if before != ZERO_SHA else [after]
    template = payload["head_commit"] or {}
    commits = [_push_commit(gh, template, sha) for sha in shas]
    payload.update(ref=f"refs/heads/{branch}", before=before, after=after, created=before == ZERO_SHA, deleted=False)
    payload.update(forced=False, base_ref=None, commits=commits, head_commit=commits[-1] if commits else None)
    payload["compare"] = f"https://github.com/{gh.repo.full_name}/compare/{before[:12]}...{after[:12]}"
    payload["pusher"] = {"name": actor, "email": f"{actor}@users.noreply.github.com"}
    return Event("push", _validated("push", payload), after, f"refs/heads/{branch}", actor)


def _push_commit(gh: FakeGitHub, template: Json, sha: str) -> Json:
    info = gh.git.info(sha)
    person = {
        "name": info.author_login,
        "email": f"{info.author_login}@users.noreply.github.com",
        "username": info.author_login,
    }
    changes = gh.git.diff(info.parents[0], sha) if info.parents else []
    return dict(
        template,
        id=sha,
        tree_id=info.tree,
        distinct=True,
        message=info.message,
        timestamp=info.date.isoformat(),
        url=f"https://github.com/{gh.repo.full_name}/commit/{sha}",
        author=person,
        committer=person,
        added=[c.filename for c in changes if c.status == "added"],
        removed=[c.filename for c in changes if c.status == "removed"],
        modified=[c.filename for c in changes if c.status not in ("added", "removed")],
    )


def workflow_dispatch(
    gh: FakeGitHub, workflow: str, inputs: Json | None = None, ref: str | None = None, actor: str = "octocat"
) -> Event:
    """`workflow_dispatch` of `.github/workflows/<workflow>` on `ref` (default branch) with `inputs`."""
    branch = ref or gh.repo.default_branch
    payload = example("workflow_dispatch")
    _common(gh, payload, actor)
    payload.update(inputs=dict(inputs or {}), ref=f"refs/heads/{branch}", workflow=f".github/workflows/{workflow}")
    sha = gh.git.tip(branch)
    assert sha is not None, f"no branch {branch!r}"
    return Event("workflow_dispatch", _validated("workflow_dispatch", payload), sha, f"refs/heads/{branch}", actor)


def schedule(gh: FakeGitHub, cron: str, actor: str = "octocat") -> Event:
    """`schedule`: no webhook exists for it; the run's payload carries the cron line; it runs on the default branch."""
    branch = gh.repo.default_branch
    sha = gh.git.tip(branch)
    assert sha is not None, f"no branch {branch!r}"
    return Event("schedule", {"schedule": cron}, sha, f"refs/heads/{branch}", actor)


def workflow_run(
    gh: FakeGitHub, workflow_file: str, workflow_name: str, head_sha: str, conclusion: str, actor: str = "octocat"
) -> Event:
    """`workflow_run` `completed` of the workflow named `workflow_name` that ran on `head_sha` (of the
    default branch). GitHub runs the triggered workflow on the default branch's tip (GITHUB_SHA)."""
    branch = gh.repo.default_branch
    payload = example("workflow_run", "completed")
    _common(gh, payload, actor)
    run = payload["workflow_run"]
    run.update(name=workflow_name, head_sha=head_sha, head_branch=branch, conclusion=conclusion, status="completed")
    run["event"] = "push"
    # The recorded example predates fields GitHub's schema now requires: the acting user, the file.
    run.update(actor=payload["sender"], triggering_actor=payload["sender"])
    run["path"] = f".github/workflows/{workflow_file}"
    payload["workflow"].update(name=workflow_name, path=run["path"])
    tip = gh.git.tip(branch)
    assert tip is not None, f"no branch {branch!r}"
    return Event("workflow_run", _validated("workflow_run", payload), tip, f"refs/heads/{branch}", actor)
