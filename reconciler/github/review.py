"""A review was submitted or dismissed: count the approvals again, without the registry.

The plan, the gate results and the paths changed come from the bot's plan comment (its data block,
signed when RECONCILER_PLAN_KEY is set); the rules from the base branch at the commit that plan
used; the reviews from GitHub. Only the status line and the approvals section of the comment
change, and the commit status of the head that plan is for. The status goes to "pending" first,
so a run that fails half-way never leaves an earlier "success" standing after a dismissal.
"""

from __future__ import annotations

from reconciler.github import comment, judge, outputs, view
from reconciler.github.check import Context, Outcome
from reconciler.github.errors import GitHubError
from reconciler.governance.report import approvals_markdown
from reconciler.plan.values import Plan
from reconciler.state import DesiredModel, Origin

PENDING = "Counting approvals again after a review…"


def run(ctx: Context) -> Outcome:
    pr = ctx.pr
    mine = comment.mine(ctx.client.comments(pr.number), ctx.options.bot)
    if not mine:
        print("No plan comment yet: the pull request's check posts it, and counts the approvals then.")
        return Outcome("none", "no plan comment yet")
    if not comment.DATA_RE.search(mine[0].body):
        print(
            "The plan comment holds no plan (the files did not validate, or no model file changes): nothing to count."
        )
        return Outcome("none", "no plan to count approvals for")
    try:
        data = comment.decode(mine[0].body)
    except comment.BadData as e:
        raise GitHubError(f"{e}; re-run the pull request's check (push a commit, or re-run its workflow)") from None
    if data.head != pr.head_sha:
        print(f"The plan comment is for {data.head[:12]}, the head is {pr.head_sha[:12]}: its own check counts then.")
        return Outcome("none", "plan comment is for an older head")
    ctx.status(data.head, "pending", PENDING)
    rules = judge.base_rules(ctx.git, _present(ctx, data.base), ctx.options.prefix, data.changed)
    reqs = judge.requirements(_plan(data), rules, data.changed, ctx.options.prefix)
    judgement = judge.judge(
        reqs, ctx.client.reviews(pr.number), pr.author, data.head, ctx.git, ctx.options.prefix, ctx.members,
        gates_ok=data.gates_ok,
    )  # fmt: skip
    return _update(ctx, mine, data, judgement)


def _present(ctx: Context, sha: str) -> str:
    if ctx.git.ensure([sha]):
        raise GitHubError(
            f"cannot fetch the base commit {sha[:12]} the plan was made on; re-run the pull request's check"
        )
    return sha


def _plan(data: comment.PlanData) -> Plan:
    """The plan as the comment carries it: its changes and the models it covered (their names only:
    what the requirements need to tell a changed file from a removed one)."""
    desired = tuple(DesiredModel(name, Origin(name)) for name in data.scope)
    return Plan(changes=data.changes, scope=data.scope, desired=desired)


def _update(ctx: Context, mine: list[comment.Comment], data: comment.PlanData, judgement: judge.Judgement) -> Outcome:
    state, description = judgement.status()
    gates_shown = bool(comment.read_section(mine[0].body, "gates"))
    status_md = view.status_line(judgement, judge.STATUS_CONTEXT, gates_shown)
    approvals_md = approvals_markdown(judgement.verdict)
    body = view.replace_section(mine[0].body, "status", status_md)
    body = view.replace_section(body, "approvals", approvals_md)
    body = view.replace_section(
        body, "footer", view.footer(ctx.actions, data.head, data.base, "approvals counted after a review")
    )
    posted = comment.upsert(ctx.client, ctx.pr.number, mine, body)
    ctx.status(data.head, state, description)
    for warning in judgement.warnings:
        outputs.annotate("warning", warning)
    outputs.summary(ctx.actions.summary_path, "\n\n".join([status_md, approvals_md]))
    outputs.set_outputs(ctx.actions.output_path, {"state": state, "comment-id": str(posted.id)})
    return Outcome(state, description, posted.id)
