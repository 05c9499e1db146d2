"""Response bodies, each built from the example GitHub's description gives for that schema.

Every builder starts from `components/examples/<name>` (so the body has every field a real response
has), points its URLs at the fake, and overrides what the state knows. Where an example is
incomplete for its own schema, the override fills the gap; the response validator proves the result.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from . import spec
from .gitrepo import CommitInfo, FileChange
from .state import Comment, Issue, Label, Membership, PullRequest, Repo, Review, State, Status, User

Json = dict[str, Any]
WEB = "https://github.com"


def iso(when: datetime | None) -> str | None:
    return None if when is None else when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _localise(value: Any, api: str, full_name: str) -> Any:
    if isinstance(value, str):
        return value.replace("https://api.github.com", api).replace("octocat/Hello-World", full_name)
    if isinstance(value, dict):
        return {k: _localise(v, api, full_name) for k, v in value.items()}
    if isinstance(value, list):
        return [_localise(v, api, full_name) for v in value]
    return value


def _from(example: str, api: str, repo: Repo) -> Any:
    return _localise(spec.example(example), api, repo.full_name)


def user(u: User, api: str) -> Json:
    body: Json = _localise(spec.example("simple-user"), api, "")
    for key, value in list(body.items()):
        if isinstance(value, str):
            body[key] = value.replace("octocat", u.login)
    body.update(login=u.login, id=u.id, node_id=f"U_{u.id}", type=u.type, site_admin=False)
    return body


def repository(r: Repo, owner: User, api: str, template: Any) -> Json:
    body: Json = _localise(template, api, r.full_name)
    body.update(id=r.id, node_id=f"R_{r.id}", name=r.name, full_name=r.full_name, owner=user(owner, api))
    body.update(private=r.private, fork=r.fork, default_branch=r.default_branch, visibility="public")
    body.update(html_url=f"{WEB}/{r.full_name}", url=f"{api}/repos/{r.full_name}")
    return body


def full_repository(st: State, api: str) -> Json:
    template = spec.example("full-repository-default-response")
    for key in ("source", "parent", "template_repository", "organization"):
        template.pop(key, None)
    body = repository(st.repo, _owner(st, st.repo), api, template)
    body.setdefault("language", None)
    body["permissions"] = {"admin": False, "maintain": False, "push": False, "triage": False, "pull": True}
    return body


def _owner(st: State, r: Repo) -> User:
    return st.users.get(r.owner) or User(r.owner, 9000 + r.id % 1000, "Organization")


def label(lab: Label, st: State, api: str) -> Json:
    body: Json = _from("label", api, st.repo)
    body.update(id=lab.id, node_id=f"LA_{lab.id}", name=lab.name, color=lab.color, description=lab.description)
    body.update(url=f"{api}/repos/{st.repo.full_name}/labels/{lab.name}", default=False)
    body.setdefault("archived_by", None)  # newer than @octokit/openapi 23.0.2; githubkit requires it
    return body


def _labels(names: list[str], st: State, api: str) -> list[Json]:
    return [label(lab, st, api) for lab in (st.label(n) for n in names) if lab is not None]


def _branch(st: State, r: Repo, ref: str, sha: str, api: str, template: Json) -> Json:
    return {
        "label": f"{r.owner}:{ref}",
        "ref": ref,
        "sha": sha,
        "user": user(_owner(st, r), api),
        "repo": repository(r, _owner(st, r), api, template["repo"]),
    }


def pull_request(pr: PullRequest, st: State, api: str, *, simple: bool = False) -> Json:
    template = _from("pull-request-simple" if simple else "pull-request", api, st.repo)
    base = f"{api}/repos/{st.repo.full_name}"
    body: Json = dict(template)
    body.update(id=pr.number + 10_000_000, node_id=f"PR_{pr.number}", number=pr.number, title=pr.title)
    body.update(body=pr.body, state=pr.state, locked=False, draft=pr.draft, user=user(pr.user, api))
    # The description's pull request label has a non-nullable description (unlike a label's own schema).
    labels = [{**lab, "description": lab["description"] or ""} for lab in _labels(pr.labels, st, api)]
    body.update(labels=labels, milestone=None, assignee=None, assignees=[])
    body.update(requested_reviewers=[], requested_teams=[], active_lock_reason=None, auto_merge=None)
    body.update(created_at=iso(pr.created_at), updated_at=iso(pr.updated_at), closed_at=iso(pr.closed_at))
    body.update(merged_at=iso(pr.merged_at), merge_commit_sha=pr.merge_commit_sha)
    body.update(html_url=f"{WEB}/{st.repo.full_name}/pull/{pr.number}", url=f"{base}/pulls/{pr.number}")
    body.update(issue_url=f"{base}/issues/{pr.number}", statuses_url=f"{base}/statuses/{pr.head_sha}")
    body.update(author_association="CONTRIBUTOR" if pr.head_repo.fork else "MEMBER")
    body["head"] = _branch(st, pr.head_repo, pr.head_ref, pr.head_sha, api, template["head"])
    body["base"] = _branch(st, st.repo, pr.base_ref, pr.base_sha, api, template["base"])
    body["_links"] = _pull_links(template["_links"], pr, base)
    if not simple:
        _pull_details(body, pr, st, api)
    return body


def _pull_links(links: Json, pr: PullRequest, base: str) -> Json:
    links = dict(links)
    links["statuses"] = {"href": f"{base}/statuses/{pr.head_sha}"}
    return links


def _pull_details(body: Json, pr: PullRequest, st: State, api: str) -> None:
    files = st.git.diff(pr.base_sha, pr.head_sha)
    body.update(merged=pr.merged, merged_by=user(pr.merged_by, api) if pr.merged_by else None)
    body.update(mergeable=None if pr.merged else True, rebaseable=None if pr.merged else True)
    body.update(mergeable_state="unknown" if pr.merged else "clean", maintainer_can_modify=pr.head_repo.fork)
    body.update(comments=sum(c.issue_number == pr.number for c in st.comments), review_comments=0)
    body.update(commits=len(st.git.commits_between(pr.base_sha, pr.head_sha)), changed_files=len(files))
    body.update(additions=sum(f.additions for f in files), deletions=sum(f.deletions for f in files))


def issue(iss: Issue | PullRequest, st: State, api: str) -> Json:
    body: Json = _from("issue", api, st.repo)
    base = f"{api}/repos/{st.repo.full_name}"
    body.update(id=iss.number + 20_000_000, node_id=f"I_{iss.number}", number=iss.number, title=iss.title)
    body.update(body=iss.body, state=iss.state, user=user(iss.user, api), labels=_labels(iss.labels, st, api))
    body.update(assignee=None, assignees=[], milestone=None, locked=False, active_lock_reason=None)
    body.update(comments=sum(c.issue_number == iss.number for c in st.comments), author_association="MEMBER")
    body.update(created_at=iso(iss.created_at), updated_at=iso(iss.updated_at), closed_at=iso(iss.closed_at))
    body.update(url=f"{base}/issues/{iss.number}", html_url=f"{WEB}/{st.repo.full_name}/issues/{iss.number}")
    body.update(comments_url=f"{base}/issues/{iss.number}/comments", repository_url=base)
    for key in ("closed_by", "state_reason", "pull_request", "draft", "type", "pinned_comment"):
        body.pop(key, None)
    if isinstance(iss, Issue):
        body["closed_by"] = user(iss.closed_by, api) if iss.closed_by else None
        if iss.state_reason:  # nullable with an enum that lacks null: OpenAPI 3.0 validators refuse null
            body["state_reason"] = iss.state_reason
    else:
        body["pull_request"] = {
            "url": f"{base}/pulls/{iss.number}",
            "html_url": f"{WEB}/{st.repo.full_name}/pull/{iss.number}",
            "diff_url": f"{WEB}/{st.repo.full_name}/pull/{iss.number}.diff",
            "patch_url": f"{WEB}/{st.repo.full_name}/pull/{iss.number}.patch",
        }
        if iss.merged_at:  # not nullable in the description: absent until merged
            body["pull_request"]["merged_at"] = iso(iss.merged_at)
        body["draft"] = iss.draft
    return body


def comment(c: Comment, st: State, api: str) -> Json:
    body: Json = _from("issue-comment", api, st.repo)
    base = f"{api}/repos/{st.repo.full_name}"
    body.update(id=c.id, node_id=f"IC_{c.id}", body=c.body, user=user(c.user, api))
    body.update(created_at=iso(c.created_at), updated_at=iso(c.updated_at), author_association="NONE")
    body.update(url=f"{base}/issues/comments/{c.id}", issue_url=f"{base}/issues/{c.issue_number}")
    body["html_url"] = f"{WEB}/{st.repo.full_name}/issues/{c.issue_number}#issuecomment-{c.id}"
    body.pop("performed_via_github_app", None)
    body.pop("reactions", None)
    return body


def review(r: Review, st: State, api: str) -> Json:
    body: Json = _from("pull-request-review", api, st.repo)
    pull_url = f"{api}/repos/{st.repo.full_name}/pulls/{r.pull_number}"
    html = f"{WEB}/{st.repo.full_name}/pull/{r.pull_number}#pullrequestreview-{r.id}"
    body.update(id=r.id, node_id=f"PRR_{r.id}", user=user(r.user, api), body=r.body, state=r.state)
    body.update(commit_id=r.commit_id, submitted_at=iso(r.submitted_at), author_association="MEMBER")
    body.update(html_url=html, pull_request_url=pull_url)
    body["_links"] = {"html": {"href": html}, "pull_request": {"href": pull_url}}
    return body


def status(s: Status, st: State, api: str) -> Json:
    body: Json = _from("status", api, st.repo)
    body.update(id=s.id, node_id=f"SC_{s.id}", state=s.state, context=s.context, description=s.description)
    body.update(
        target_url=s.target_url, creator=user(s.creator, api), url=f"{api}/repos/{st.repo.full_name}/statuses/{s.sha}"
    )
    body.update(created_at=iso(s.created_at), updated_at=iso(s.created_at))
    return body


def combined_status(sha: str, latest: list[Status], st: State, api: str) -> Json:
    body: Json = _from("combined-commit-status", api, st.repo)
    states = {s.state for s in latest}
    overall = (
        "failure" if states & {"failure", "error"} else "pending" if "pending" in states or not latest else "success"
    )
    items = []
    for s in latest:
        item = {k: v for k, v in status(s, st, api).items() if k != "creator"}
        item["required"] = None
        items.append(item)
    body.update(state=overall, statuses=items, sha=sha, total_count=len(latest))
    body["repository"] = repository(st.repo, _owner(st, st.repo), api, body["repository"])
    body.update(
        commit_url=f"{api}/repos/{st.repo.full_name}/commits/{sha}",
        url=f"{api}/repos/{st.repo.full_name}/commits/{sha}/status",
    )
    return body


def diff_entry(f: FileChange, st: State, api: str, ref: str) -> Json:
    body: Json = _from("diff-entry-items", api, st.repo)[0]
    raw = f"{WEB}/{st.repo.full_name}/raw/{ref}/{f.filename}"
    body.update(sha=f.blob_sha, filename=f.filename, status=f.status, additions=f.additions, deletions=f.deletions)
    body.update(changes=f.additions + f.deletions, blob_url=raw.replace("/raw/", "/blob/"), raw_url=raw)
    body.update(contents_url=f"{api}/repos/{st.repo.full_name}/contents/{f.filename}?ref={ref}")
    body.pop("patch", None)
    body.pop("previous_filename", None)
    if f.patch is not None:
        body["patch"] = f.patch
    if f.previous_filename:
        body["previous_filename"] = f.previous_filename
    return body


def commit(c: CommitInfo, st: State, api: str) -> Json:
    body: Json = _from("commit-items", api, st.repo)[0]
    base = f"{api}/repos/{st.repo.full_name}"
    author = st.users.get(c.author_login)
    person = {"name": c.author_login, "email": f"{c.author_login}@users.noreply.github.com", "date": iso(c.date)}
    body.update(sha=c.sha, node_id=f"C_{c.sha[:12]}", url=f"{base}/commits/{c.sha}")
    body.update(html_url=f"{WEB}/{st.repo.full_name}/commit/{c.sha}", comments_url=f"{base}/commits/{c.sha}/comments")
    body["commit"] = dict(body["commit"], message=c.message, author=person, committer=person, comment_count=0)
    body["commit"]["tree"] = {"sha": c.tree, "url": f"{base}/git/trees/{c.tree}"}
    body["commit"]["url"] = f"{base}/git/commits/{c.sha}"
    body["commit"]["verification"] = dict(
        body["commit"]["verification"], verified=False, reason="unsigned", signature=None, payload=None
    )
    body.update(author=user(author, api) if author else None, committer=user(author, api) if author else None)
    body["parents"] = [
        {"sha": p, "url": f"{base}/commits/{p}", "html_url": f"{WEB}/{st.repo.full_name}/commit/{p}"} for p in c.parents
    ]
    body.pop("files", None)
    body.pop("stats", None)
    return body


def membership(org: str, team: str, login: str, m: Membership, api: str) -> Json:
    body: Json = spec.example("team-membership-response-if-user-is-a-team-maintainer")
    body.update(url=f"{api}/orgs/{org}/teams/{team}/memberships/{login}", role=m.role, state=m.state)
    return body
