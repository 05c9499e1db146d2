"""Handlers for what a bot needs to propose a change: git refs, a file committed through the
contents API, and pull requests opened and edited. Bodies start from the OpenAPI examples."""

from __future__ import annotations

import base64
import binascii

from . import bodies
from .routing import ApiError, Ctx, Reply, check_repo, handles
from .state import PullRequest


def _ref_body(ctx: Ctx, ref: str, sha: str) -> dict:
    base = f"{ctx.api}/repos/{ctx.state.repo.full_name}"
    return {
        "ref": ref,
        "node_id": "REF_" + base64.b64encode(ref.encode()).decode(),
        "url": f"{base}/git/{ref}",
        "object": {"type": "commit", "sha": sha, "url": f"{base}/git/commits/{sha}"},
    }


def _follow(ctx: Ctx, branch: str) -> None:
    """Open pull requests from `branch` follow its tip (as FakeGitHub._refresh does)."""
    git = ctx.state.git
    for pr in ctx.state.pulls.values():
        if pr.state == "open" and pr.head_ref == branch and not pr.head_repo.fork:
            pr.head_sha, pr.base_sha = git.tip(pr.head_ref) or pr.head_sha, git.tip(pr.base_ref) or pr.base_sha
            git.set_ref(f"refs/pull/{pr.number}/head", pr.head_sha)
            pr.merge_commit_sha = git.merge_commit(
                pr.base_sha, pr.head_sha, f"Merge {pr.head_sha} into {pr.base_sha}", "github"
            )
            git.set_ref(f"refs/pull/{pr.number}/merge", pr.merge_commit_sha)
            pr.updated_at = ctx.state.now()


@handles("git/create-ref", "contents", "write")
def create_ref(ctx: Ctx) -> Reply:
    check_repo(ctx)
    ref, sha = str(ctx.body("ref", "")), str(ctx.body("sha", ""))
    if not ref.startswith("refs/") or ref.count("/") < 2:
        raise ApiError(422, "Reference name must start with 'refs/' and have at least two slashes")
    if ctx.state.git.resolve(ref) is not None:
        raise ApiError(422, "Reference already exists")
    if ctx.state.git.resolve(sha) is None:
        raise ApiError(422, "Object does not exist")
    ctx.state.git.set_ref(ref, sha)
    return Reply(201, _ref_body(ctx, ref, sha))


@handles("git/update-ref", "contents", "write")
def update_ref(ctx: Ctx) -> Reply:
    check_repo(ctx)
    ref = "refs/" + str(ctx.op.path["ref"])
    sha, force = str(ctx.body("sha", "")), bool(ctx.body("force", False))
    git = ctx.state.git
    current = git.resolve(ref)
    if current is None:
        raise ApiError(422, "Reference does not exist")
    if git.resolve(sha) is None:
        raise ApiError(422, "Object does not exist")
    if not force and not git.is_ancestor(current, sha):
        raise ApiError(422, "Update is not a fast forward")
    git.set_ref(ref, sha)
    if ref.startswith("refs/heads/"):
        _follow(ctx, ref.removeprefix("refs/heads/"))
    return Reply(200, _ref_body(ctx, ref, sha))


@handles("repos/create-or-update-file-contents", "contents", "write")
def put_file(ctx: Ctx) -> Reply:
    check_repo(ctx)
    path, branch = str(ctx.op.path["path"]), str(ctx.body("branch") or ctx.state.repo.default_branch)
    git = ctx.state.git
    tip = git.tip(branch)
    if tip is None:
        raise ApiError(404, f"Branch {branch} not found")
    try:
        text = base64.b64decode(str(ctx.body("content", "")), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise ApiError(422, "content is not valid Base64") from None
    existing = git.read(tip, path)
    if existing is not None:
        blob = git.git("rev-parse", f"{tip}:{path}").strip()
        if ctx.body("sha") != blob:
            raise ApiError(409, f"{path} does not match {ctx.body('sha')}")
    elif ctx.body("sha"):
        raise ApiError(422, "sha given for a file that does not exist")
    sha = git.commit(branch, {path: text}, str(ctx.body("message", "")), ctx.token.user.login)
    _follow(ctx, branch)
    body = bodies._from("file-commit", ctx.api, ctx.state.repo)
    body["commit"]["sha"] = sha
    body["content"] = None  # allowed by the schema; the committed file's metadata is not needed here
    return Reply(200 if existing is not None else 201, body)


def _pull_from(ctx: Ctx) -> PullRequest:
    pr = ctx.state.pulls.get(int(ctx.op.path["pull_number"]))
    if pr is None:
        raise ApiError(404, "Not Found")
    return pr


@handles("pulls/create", "pull_requests", "write")
def create_pull(ctx: Ctx) -> Reply:
    check_repo(ctx)
    st, git = ctx.state, ctx.state.git
    head, base = str(ctx.body("head", "")), str(ctx.body("base", ""))
    head = head.split(":", 1)[1] if ":" in head else head
    if git.tip(head) is None or git.tip(base) is None:
        raise ApiError(422, "Validation Failed", [{"resource": "PullRequest", "code": "invalid", "field": "head"}])
    if any(p.state == "open" and p.head_ref == head and p.base_ref == base for p in st.pulls.values()):
        message = f"A pull request already exists for {st.repo.owner}:{head}."
        raise ApiError(422, "Validation Failed", [{"resource": "PullRequest", "code": "custom", "message": message}])
    now = st.now()
    user = ctx.token.user
    st.users.setdefault(user.login.lower(), user)
    pr = PullRequest(st.new_number(), str(ctx.body("title", "")), ctx.body("body"), user, head, git.tip(head) or "",
                     st.repo, base, git.tip(base) or "", now, now)  # fmt: skip
    st.pulls[pr.number] = pr
    _follow(ctx, head)
    return Reply(201, bodies.pull_request(pr, st, ctx.api))


@handles("pulls/update", "pull_requests", "write")
def update_pull(ctx: Ctx) -> Reply:
    check_repo(ctx)
    pr = _pull_from(ctx)
    if ctx.body("title") is not None:
        pr.title = str(ctx.body("title"))
    if ctx.body("body") is not None:
        pr.body = str(ctx.body("body"))
    pr.updated_at = ctx.state.now()
    return Reply(200, bodies.pull_request(pr, ctx.state, ctx.api))
