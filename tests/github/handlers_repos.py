"""Handlers for repository, pull request, commit status, compare and team operations."""

from __future__ import annotations

from . import bodies
from .routing import ApiError, Ctx, Reply, check_repo, handles, paginate
from .state import PullRequest, Status, User

MAX_PR_FILES = 3000  # GitHub lists at most 3000 files of a pull request
MAX_PR_COMMITS = 250  # and at most 250 commits


def _pull(ctx: Ctx) -> PullRequest:
    check_repo(ctx)
    pr = ctx.state.pulls.get(int(ctx.op.path["pull_number"]))
    if pr is None:
        raise ApiError(404, "Not Found")
    return pr


def _sha(ctx: Ctx, ref: str) -> str:
    git = ctx.state.git
    sha = git.resolve(f"refs/heads/{ref}") or git.resolve(f"refs/tags/{ref}")
    if sha is None and 4 <= len(ref) <= 40 and all(c in "0123456789abcdef" for c in ref.lower()):
        sha = git.resolve(ref)
    if sha is None:
        raise ApiError(422, f"No commit found for SHA: {ref}")
    return sha


@handles("repos/get", "metadata", "read")
def get_repo(ctx: Ctx) -> Reply:
    check_repo(ctx)
    return Reply(200, bodies.full_repository(ctx.state, ctx.api))


@handles("pulls/get", "pull_requests", "read")
def get_pull(ctx: Ctx) -> Reply:
    return Reply(200, bodies.pull_request(_pull(ctx), ctx.state, ctx.api))


@handles("pulls/list", "pull_requests", "read")
def list_pulls(ctx: Ctx) -> Reply:
    check_repo(ctx)
    state = ctx.query("state", "open")
    pulls = [p for p in ctx.state.pulls.values() if state == "all" or p.state == state]
    if ctx.query("base"):
        pulls = [p for p in pulls if p.base_ref == ctx.query("base")]
    if ctx.query("head"):
        pulls = [p for p in pulls if f"{p.head_repo.owner}:{p.head_ref}" == ctx.query("head")]
    pulls.sort(key=lambda p: p.created_at, reverse=ctx.query("direction", "desc") == "desc")
    return paginate(ctx, pulls, lambda p: bodies.pull_request(p, ctx.state, ctx.api, simple=True))


@handles("pulls/list-files", "pull_requests", "read")
def list_pull_files(ctx: Ctx) -> Reply:
    pr = _pull(ctx)
    files = ctx.state.git.diff(pr.base_sha, pr.head_sha)[:MAX_PR_FILES]
    return paginate(ctx, files, lambda f: bodies.diff_entry(f, ctx.state, ctx.api, pr.head_sha))


@handles("pulls/list-commits", "pull_requests", "read")
def list_pull_commits(ctx: Ctx) -> Reply:
    pr = _pull(ctx)
    shas = ctx.state.git.commits_between(pr.base_sha, pr.head_sha)[:MAX_PR_COMMITS]
    return paginate(ctx, shas, lambda sha: bodies.commit(ctx.state.git.info(sha), ctx.state, ctx.api))


@handles("pulls/list-reviews", "pull_requests", "read")
def list_reviews(ctx: Ctx) -> Reply:
    pr = _pull(ctx)
    reviews = [r for r in ctx.state.reviews if r.pull_number == pr.number]
    return paginate(ctx, reviews, lambda r: bodies.review(r, ctx.state, ctx.api))


@handles("repos/create-commit-status", "statuses", "write")
def create_status(ctx: Ctx) -> Reply:
    check_repo(ctx)
    sha = ctx.state.git.resolve(str(ctx.op.path["sha"]))
    if sha is None:
        raise ApiError(422, f"No commit found for SHA: {ctx.op.path['sha']}")
    if len([s for s in ctx.state.statuses if s.sha == sha]) >= 1000:
        raise ApiError(422, "This SHA and context has reached the maximum number of statuses.")
    status = Status(
        id=ctx.state.new_id(),
        sha=sha,
        state=ctx.body("state"),
        context=ctx.body("context", "default"),
        description=ctx.body("description"),
        target_url=ctx.body("target_url"),
        creator=ctx.token.user,
        created_at=ctx.state.now(),
    )
    ctx.state.statuses.append(status)
    return Reply(201, bodies.status(status, ctx.state, ctx.api))


@handles("repos/list-commit-statuses-for-ref", "statuses", "read")
def list_statuses(ctx: Ctx) -> Reply:
    check_repo(ctx)
    sha = _sha(ctx, str(ctx.op.path["ref"]))
    statuses = [s for s in reversed(ctx.state.statuses) if s.sha == sha]  # newest first
    return paginate(ctx, statuses, lambda s: bodies.status(s, ctx.state, ctx.api))


@handles("repos/get-combined-status-for-ref", "statuses", "read")
def combined_status(ctx: Ctx) -> Reply:
    check_repo(ctx)
    sha = _sha(ctx, str(ctx.op.path["ref"]))
    latest: dict[str, Status] = {}
    for s in ctx.state.statuses:
        if s.sha == sha:
            latest[s.context] = s
    return Reply(200, bodies.combined_status(sha, list(latest.values()), ctx.state, ctx.api))


@handles("repos/list-pull-requests-associated-with-commit", "contents", "read")
def pulls_for_commit(ctx: Ctx) -> Reply:
    check_repo(ctx)
    sha = _sha(ctx, str(ctx.op.path["commit_sha"]))
    git = ctx.state.git
    found = [
        p
        for p in ctx.state.pulls.values()
        if (p.merge_commit_sha == sha and p.merged) or (git.is_ancestor(sha, p.head_sha) and p.state == "open")
    ]
    found.sort(key=lambda p: p.number, reverse=True)
    return paginate(ctx, found, lambda p: bodies.pull_request(p, ctx.state, ctx.api, simple=True))


@handles("repos/compare-commits-with-basehead", "contents", "read")
def compare(ctx: Ctx) -> Reply:
    check_repo(ctx)
    basehead = str(ctx.op.path["basehead"])
    if "..." not in basehead:
        raise ApiError(404, "Not Found")
    base, head = (_sha(ctx, part) for part in basehead.split("...", 1))
    return Reply(200, _comparison(ctx, base, head))


def _comparison(ctx: Ctx, base: str, head: str) -> dict:
    git, st = ctx.state.git, ctx.state
    body = bodies._from("commit-comparison", ctx.api, st.repo)
    ahead, behind = git.commits_between(base, head), git.commits_between(head, base)
    merge_base = git.merge_base(base, head)
    body.update(ahead_by=len(ahead), behind_by=len(behind), total_commits=len(ahead))
    body.update(
        status="identical"
        if not ahead and not behind
        else "ahead"
        if not behind
        else "behind"
        if not ahead
        else "diverged"
    )
    body["base_commit"] = bodies.commit(git.info(base), st, ctx.api)
    body["merge_base_commit"] = bodies.commit(git.info(merge_base), st, ctx.api)
    body["commits"] = [bodies.commit(git.info(sha), st, ctx.api) for sha in ahead[:250]]
    body["files"] = [bodies.diff_entry(f, st, ctx.api, head) for f in git.diff(base, head)[:300]]
    return body


@handles("teams/get-membership-for-user-in-org", "members", "read")
def team_membership(ctx: Ctx) -> Reply:
    org, team, login = (str(ctx.op.path[k]) for k in ("org", "team_slug", "username"))
    members = ctx.state.teams.get((org.lower(), team.lower()))
    if members is None or login.lower() not in members:
        raise ApiError(404, "Not Found")
    return Reply(200, bodies.membership(org, team, login, members[login.lower()], ctx.api))


@handles("teams/list-members-in-org", "members", "read")
def team_members(ctx: Ctx) -> Reply:
    """Active members (pending invitations are not members yet), by login, as GitHub lists them."""
    org, team = (str(ctx.op.path[k]) for k in ("org", "team_slug"))
    members = ctx.state.teams.get((org.lower(), team.lower()))
    if members is None:
        raise ApiError(404, "Not Found")
    role = ctx.query("role", "all")
    logins = sorted(login for login, m in members.items() if m.state == "active" and role in ("all", m.role))
    users = {u.login.lower(): u for u in ctx.state.users.values()}
    found = [users.get(login) or User(login, 6_000_000 + i) for i, login in enumerate(logins)]
    return paginate(ctx, found, lambda u: bodies.user(u, ctx.api))
