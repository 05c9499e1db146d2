"""Handlers for branches (git refs), file commits (the contents API) and opening or editing pull
requests: what `reconciler propose --open-pr` uses. Path parameters arrive URL-encoded
(`heads%2Fa%2Fb`, as Octokit sends them); GitHub decodes them."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import unquote

from . import bodies
from .routing import ApiError, Ctx, Reply, check_repo, handles
from .state import PullRequest

REF_PREFIX = "refs/heads/"


def _ref_body(ctx: Ctx, ref: str, sha: str) -> dict:
    base = f"{ctx.api}/repos/{ctx.state.repo.full_name}"
    body = bodies._from("git-ref", ctx.api, ctx.state.repo)
    body.update(ref=ref, node_id=f"REF_{hashlib.sha1(ref.encode()).hexdigest()[:12]}", url=f"{base}/git/{ref}")
    body["object"] = {"type": "commit", "sha": sha, "url": f"{base}/git/commits/{sha}"}
    return body


def _branch_of(ref: str) -> str:
    if not ref.startswith("heads/"):
        raise ApiError(422, "Reference does not exist")  # the fake keeps branches only
    return ref[len("heads/") :]


@handles("git/get-ref", "contents", "read")
def get_ref(ctx: Ctx) -> Reply:
    check_repo(ctx)
    branch = _branch_of(unquote(str(ctx.op.path["ref"])))
    sha = ctx.state.git.tip(branch)
    if sha is None:
        raise ApiError(404, "Not Found")
    return Reply(200, _ref_body(ctx, f"{REF_PREFIX}{branch}", sha))


@handles("git/create-ref", "contents", "write")
def create_ref(ctx: Ctx) -> Reply:
    check_repo(ctx)
    ref, sha = str(ctx.body("ref")), str(ctx.body("sha"))
    if not ref.startswith(REF_PREFIX) or ref.count("/") < 2:
        raise ApiError(422, f"{ref} is not a valid ref name.")
    branch = ref[len(REF_PREFIX) :]
    if ctx.state.git.tip(branch) is not None:
        raise ApiError(422, "Reference already exists")
    if ctx.state.git.resolve(sha) is None:
        raise ApiError(422, "Object does not exist")
    ctx.state.git.set_ref(ref, sha)
    return Reply(201, _ref_body(ctx, ref, sha))


@handles("git/update-ref", "contents", "write")
def update_ref(ctx: Ctx) -> Reply:
    check_repo(ctx)
    branch = _branch_of(unquote(str(ctx.op.path["ref"])))
    tip, sha = ctx.state.git.tip(branch), str(ctx.body("sha"))
    if tip is None:
        raise ApiError(422, "Reference does not exist")
    if ctx.state.git.resolve(sha) is None:
        raise ApiError(422, "Object does not exist")
    if not ctx.body("force", False) and not ctx.state.git.is_ancestor(tip, sha):
        raise ApiError(422, "Update is not a fast forward")
    ctx.state.git.set_ref(f"{REF_PREFIX}{branch}", sha)
    refresh_pulls(ctx, branch)
    return Reply(200, _ref_body(ctx, f"{REF_PREFIX}{branch}", sha))


def _blob_sha(text: str) -> str:
    data = text.encode()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@handles("repos/create-or-update-file-contents", "contents", "write")
def put_file(ctx: Ctx) -> Reply:
    """A commit of one file on `branch`; `sha` must be the blob being replaced (409 otherwise)."""
    check_repo(ctx)
    path = unquote(str(ctx.op.path["path"]))
    branch = str(ctx.body("branch") or ctx.state.repo.default_branch)
    tip = ctx.state.git.tip(branch)
    if tip is None:
        raise ApiError(404, f"Branch {branch} not found")
    existing = ctx.state.git.read(tip, path)
    given = ctx.body("sha")
    if existing is not None and not given:
        raise ApiError(422, 'Invalid request.\n\n"sha" wasn\'t supplied.')
    if existing is not None and given != _blob_sha(existing):
        raise ApiError(409, f"{path} does not match {given}")
    text = base64.b64decode(str(ctx.body("content"))).decode()
    sha = ctx.state.git.commit(branch, {path: text}, str(ctx.body("message")), ctx.token.user.login)
    refresh_pulls(ctx, branch)
    info = ctx.state.git.info(sha)
    body = bodies._from("file-commit", ctx.api, ctx.state.repo)
    body["content"] = None
    commit = dict(body["commit"], sha=sha, message=info.message, node_id=f"C_{sha[:12]}")
    base = f"{ctx.api}/repos/{ctx.state.repo.full_name}"
    commit.update(url=f"{base}/git/commits/{sha}", html_url=f"{bodies.WEB}/{ctx.state.repo.full_name}/commit/{sha}")
    commit["tree"] = {"sha": info.tree, "url": f"{base}/git/trees/{info.tree}"}
    commit["parents"] = [
        {"sha": p, "url": f"{base}/git/commits/{p}", "html_url": f"{bodies.WEB}/x/{p}"} for p in info.parents
    ]
    body["commit"] = commit
    return Reply(201 if existing is None else 200, body)


@handles("pulls/create", "pull_requests", "write")
def create_pull(ctx: Ctx) -> Reply:
    check_repo(ctx)
    st = ctx.state
    head, base = str(ctx.body("head")), str(ctx.body("base"))
    head = head.split(":", 1)[1] if ":" in head else head
    head_sha, base_sha = st.git.tip(head), st.git.tip(base)
    if head_sha is None or base_sha is None:
        raise ApiError(422, "Validation Failed", [{"resource": "PullRequest", "code": "invalid", "field": "head"}])
    if any(p.state == "open" and p.head_ref == head and p.base_ref == base for p in st.pulls.values()):
        message = f"A pull request already exists for {st.repo.owner}:{head}."
        raise ApiError(422, "Validation Failed", [{"resource": "PullRequest", "code": "custom", "message": message}])
    if not st.git.commits_between(base_sha, head_sha):
        message = f"No commits between {base} and {head}"
        raise ApiError(422, "Validation Failed", [{"resource": "PullRequest", "code": "custom", "message": message}])
    now = st.now()
    pr = PullRequest(
        st.new_number(),
        str(ctx.body("title")),
        ctx.body("body"),
        ctx.token.user,
        head,
        head_sha,
        st.repo,
        base,
        base_sha,
        now,
        now,
        draft=bool(ctx.body("draft", False)),
    )
    st.pulls[pr.number] = pr
    refresh(ctx, pr)
    return Reply(201, bodies.pull_request(pr, st, ctx.api))


@handles("pulls/update", "pull_requests", "write")
def update_pull(ctx: Ctx) -> Reply:
    check_repo(ctx)
    pr = ctx.state.pulls.get(int(ctx.op.path["pull_number"]))
    if pr is None:
        raise ApiError(404, "Not Found")
    for key in ("title", "body"):
        if key in (ctx.op.body or {}):
            setattr(pr, key, ctx.body(key))
    if ctx.body("state") in ("open", "closed"):
        pr.state = str(ctx.body("state"))
        pr.closed_at = ctx.state.now() if pr.state == "closed" else None
    pr.updated_at = ctx.state.now()
    return Reply(200, bodies.pull_request(pr, ctx.state, ctx.api))


def refresh_pulls(ctx: Ctx, branch: str) -> None:
    for pr in ctx.state.pulls.values():
        if pr.state == "open" and branch in (pr.head_ref, pr.base_ref):
            refresh(ctx, pr)


def refresh(ctx: Ctx, pr: PullRequest) -> None:
    """As FakeGitHub._refresh: head and base shas, refs/pull/N/head and the test merge commit."""
    git = ctx.state.git
    pr.head_sha, pr.base_sha = git.tip(pr.head_ref) or pr.head_sha, git.tip(pr.base_ref) or pr.base_sha
    git.set_ref(f"refs/pull/{pr.number}/head", pr.head_sha)
    pr.merge_commit_sha = git.merge_commit(
        pr.base_sha, pr.head_sha, f"Merge {pr.head_sha} into {pr.base_sha}", "github"
    )
    git.set_ref(f"refs/pull/{pr.number}/merge", pr.merge_commit_sha)
