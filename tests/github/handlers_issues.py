"""Handlers for issues, issue and pull request comments, and labels."""

from __future__ import annotations

from . import bodies
from .routing import ApiError, Ctx, Reply, check_repo, handles, paginate
from .state import Comment, Issue, Label, PullRequest, State, Token

DEFAULT_LABEL_COLOR = "ededed"


def _target(ctx: Ctx) -> Issue | PullRequest:
    check_repo(ctx)
    number = int(ctx.op.path["issue_number"])
    found = ctx.state.issues.get(number) or ctx.state.pulls.get(number)
    if found is None:
        raise ApiError(404, "Not Found")
    _require_on(ctx.token, found, "write" if ctx.op.body is not None else "read")
    return found


def _require_on(token: Token, target: Issue | PullRequest, level: str) -> None:
    """Issues scope, or pull_requests scope when the issue is a pull request (GitHub accepts either)."""
    if token.allows("issues", level) or (isinstance(target, PullRequest) and token.allows("pull_requests", level)):
        return
    raise ApiError(403, "Resource not accessible by integration")


def _comment(ctx: Ctx) -> Comment:
    check_repo(ctx)
    wanted = int(ctx.op.path["comment_id"])
    found = next((c for c in ctx.state.comments if c.id == wanted), None)
    if found is None:
        raise ApiError(404, "Not Found")
    target = ctx.state.issues.get(found.issue_number) or ctx.state.pulls[found.issue_number]
    _require_on(ctx.token, target, "read" if ctx.op.operation_id == "issues/get-comment" else "write")
    return found


@handles("issues/list-comments", "issues", "read", alt_scope="pull_requests")
def list_comments(ctx: Ctx) -> Reply:
    target = _target(ctx)
    comments = [c for c in ctx.state.comments if c.issue_number == target.number]
    since = ctx.query("since")
    if since is not None:
        comments = [c for c in comments if c.updated_at >= since]
    return paginate(ctx, comments, lambda c: bodies.comment(c, ctx.state, ctx.api))


@handles("issues/create-comment", "issues", "write", alt_scope="pull_requests")
def create_comment(ctx: Ctx) -> Reply:
    target = _target(ctx)
    now = ctx.state.now()
    comment = Comment(ctx.state.new_id(), target.number, ctx.token.user, ctx.body("body"), now, now)
    ctx.state.comments.append(comment)
    target.updated_at = now
    return Reply(201, bodies.comment(comment, ctx.state, ctx.api))


@handles("issues/get-comment", "issues", "read", alt_scope="pull_requests")
def get_comment(ctx: Ctx) -> Reply:
    return Reply(200, bodies.comment(_comment(ctx), ctx.state, ctx.api))


@handles("issues/update-comment", "issues", "write", alt_scope="pull_requests")
def update_comment(ctx: Ctx) -> Reply:
    comment = _comment(ctx)
    comment.body = ctx.body("body")
    comment.updated_at = ctx.state.now()
    return Reply(200, bodies.comment(comment, ctx.state, ctx.api))


@handles("issues/delete-comment", "issues", "write", alt_scope="pull_requests")
def delete_comment(ctx: Ctx) -> Reply:
    comment = _comment(ctx)
    ctx.state.comments.remove(comment)
    return Reply(204)


@handles("issues/get", "issues", "read", alt_scope="pull_requests")
def get_issue(ctx: Ctx) -> Reply:
    return Reply(200, bodies.issue(_target(ctx), ctx.state, ctx.api))


@handles("issues/list-for-repo", "issues", "read", alt_scope="pull_requests")
def list_issues(ctx: Ctx) -> Reply:
    """Pull requests are issues too: GitHub lists them here, with a `pull_request` key."""
    check_repo(ctx)
    state, labels = ctx.query("state", "open"), ctx.query("labels")
    wanted = [w.strip().lower() for w in labels.split(",")] if labels else []
    found: list[Issue | PullRequest] = [*ctx.state.issues.values(), *ctx.state.pulls.values()]
    found = [i for i in found if state == "all" or i.state == state]
    found = [i for i in found if all(w in (n.lower() for n in i.labels) for w in wanted)]
    if not ctx.token.allows("issues", "read"):
        found = [i for i in found if isinstance(i, PullRequest)]
    found.sort(key=lambda i: i.created_at, reverse=ctx.query("direction", "desc") == "desc")
    return paginate(ctx, found, lambda i: bodies.issue(i, ctx.state, ctx.api))


@handles("issues/create", "issues", "write")
def create_issue(ctx: Ctx) -> Reply:
    check_repo(ctx)
    now = ctx.state.now()
    names = [_ensure_label(ctx.state, str(n)).name for n in ctx.body("labels", []) or []]
    issue = Issue(ctx.state.new_number(), ctx.body("title"), ctx.body("body"), ctx.token.user, now, now, labels=names)
    ctx.state.issues[issue.number] = issue
    return Reply(201, bodies.issue(issue, ctx.state, ctx.api))


@handles("issues/update", "issues", "write", alt_scope="pull_requests")
def update_issue(ctx: Ctx) -> Reply:
    target = _target(ctx)
    if not isinstance(target, Issue):
        raise ApiError(422, "Use the pulls API to change a pull request's state")
    for key in ("title", "body"):
        if key in ctx.op.body:
            setattr(target, key, ctx.body(key))
    if "labels" in ctx.op.body:
        target.labels = [_ensure_label(ctx.state, str(n)).name for n in ctx.body("labels") or []]
    _set_state(ctx, target)
    target.updated_at = ctx.state.now()
    return Reply(200, bodies.issue(target, ctx.state, ctx.api))


def _set_state(ctx: Ctx, issue: Issue) -> None:
    state = ctx.body("state")
    if state is None or state == issue.state:
        return
    issue.state = state
    if state == "closed":
        issue.state_reason = ctx.body("state_reason") or "completed"
        issue.closed_at, issue.closed_by = ctx.state.now(), ctx.token.user
    else:
        issue.state_reason, issue.closed_at, issue.closed_by = "reopened", None, None


@handles("issues/add-labels", "issues", "write", alt_scope="pull_requests")
def add_labels(ctx: Ctx) -> Reply:
    target = _target(ctx)
    body = ctx.op.body
    names = body if isinstance(body, list) else body.get("labels", [])
    for raw in names:
        name = raw["name"] if isinstance(raw, dict) else str(raw)
        label = _ensure_label(ctx.state, name)
        if label.name not in target.labels:
            target.labels.append(label.name)
    return Reply(200, [bodies.label(ctx.state.labels[n.lower()], ctx.state, ctx.api) for n in target.labels])


@handles("issues/get-label", "issues", "read", alt_scope="pull_requests")
def get_label(ctx: Ctx) -> Reply:
    check_repo(ctx)
    label = ctx.state.label(str(ctx.op.path["name"]))
    if label is None:
        raise ApiError(404, "Not Found")
    return Reply(200, bodies.label(label, ctx.state, ctx.api))


@handles("issues/create-label", "issues", "write", alt_scope="pull_requests")
def create_label(ctx: Ctx) -> Reply:
    check_repo(ctx)
    name = str(ctx.body("name"))
    if ctx.state.label(name) is not None:
        raise ApiError(422, "Validation Failed", [{"resource": "Label", "code": "already_exists", "field": "name"}])
    color = str(ctx.body("color", DEFAULT_LABEL_COLOR)).lstrip("#")
    label = Label(ctx.state.new_id(), name, color, ctx.body("description"))
    ctx.state.labels[name.lower()] = label
    return Reply(201, bodies.label(label, ctx.state, ctx.api))


def _ensure_label(state: State, name: str) -> Label:
    """Setting a label that does not exist creates it, as GitHub does for writers."""
    existing = state.label(name)
    if existing is not None:
        return existing
    label = Label(state.new_id(), name, DEFAULT_LABEL_COLOR, None)
    state.labels[name.lower()] = label
    return label
