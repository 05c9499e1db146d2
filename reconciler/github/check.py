"""The pull-request check (a `pull_request` event): validate, plan the changed model files against the
registry (read-only), judge approvals and gates by the base branch's rules, and show it: ONE plan
comment, a commit status on the head, the job summary and step outputs.

The checkout is GITHUB_SHA, the test merge commit: its files are what merging would put on the
base branch, and its first parent is the base the rules are read from. The plan covers the model
files the pull request changes (other models' drift is the drift check's business): that is what
the merge applies, and so what the reviewers approve.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from reconciler import engine
from reconciler.errors import ReconcilerError, ValidationErrors
from reconciler.git import Git, GitAccess
from reconciler.github import comment, files, judge, outputs, view
from reconciler.github.client import Client, GitHubApi
from reconciler.github.context import Actions, PullRequestEvent
from reconciler.github.errors import GitHubError
from reconciler.governance.report import approvals_markdown, gates_markdown
from reconciler.plan import render
from reconciler.plan.values import Plan
from reconciler.smoke import report as smoke_report
from reconciler.state import DesiredModel, LiveState


@dataclass(frozen=True)
class Options:
    models_dir: Path
    bot: str
    members_token: str | None = None
    cwd: Path = Path(".")

    @property
    def prefix(self) -> str:
        return PurePosixPath(self.models_dir.as_posix()).as_posix().strip("/") or "models"


@dataclass(frozen=True)
class Outcome:
    state: str  # the commit status set: success, failure
    description: str
    comment_id: int | None = None
    plan: Plan | None = None


class Context:
    """What every step of a check needs: the run, the pull request, GitHub, git."""

    def __init__(self, actions: Actions, pr: PullRequestEvent, options: Options):
        self.actions, self.pr, self.options = actions, pr, options
        self.client = Client(actions.api_url, actions.token, actions.repository)
        self.members = team_members(self.client, actions, options.members_token)
        self.git = Git(options.cwd)

    def status(self, sha: str, state: str, description: str) -> None:
        self.client.set_status(sha, state, judge.STATUS_CONTEXT, description, self.actions.run_url)


def team_members(client: GitHubApi, actions: Actions, token: str | None) -> Callable[[str], frozenset[str]]:
    """`members("@org/team")`, read with the members token when there is one (GITHUB_TOKEN cannot)."""
    reader = client if not token or token == actions.token else Client(actions.api_url, token, actions.repository)

    def members(team: str) -> frozenset[str]:
        org, slug = team.removeprefix("@").split("/", 1)
        return reader.team_members(org, slug)

    return members


def scoped(plan: Plan) -> Plan:
    """Notes about models the pull request does not touch are not its business."""
    return dataclasses.replace(plan, notes=tuple(n for n in plan.notes if n.address.model in plan.scope))


def head_is(git: GitAccess, sha: str) -> None:
    here = git.run("rev-parse", "HEAD").stdout.strip()
    if here != sha:
        raise GitHubError(
            f"the checkout is at {here[:12]}, not GITHUB_SHA {sha[:12]}; check out the event's commit "
            "(actions/checkout with its default ref)"
        )


def run(ctx: Context) -> Outcome:
    actions, pr, git = ctx.actions, ctx.pr, ctx.git
    head_is(git, actions.sha)
    base = git.parent(actions.sha)
    changed = git.changed(base, actions.sha)
    comments = ctx.client.comments(pr.number)
    mine = comment.mine(comments, ctx.options.bot)
    foot = view.footer(actions, pr.head_sha, base, "planned by the check of the pull request")
    refused = files.refused(ctx.options.models_dir)  # whatever the pull request changes: see files.refused
    if refused:
        _invalid(ctx, mine, foot, ValidationErrors(refused))
        raise ValidationErrors(refused)
    if not files.model_paths(changed, ctx.options.prefix):
        return _nothing(ctx, mine, foot)
    try:
        desired = files.load_changed(ctx.options.models_dir, changed, ctx.options.prefix)
    except ValidationErrors as e:
        _invalid(ctx, mine, foot, e)
        raise
    return _planned(ctx, desired, changed, base, mine, foot)


def _invalid(ctx: Context, mine: Sequence[comment.Comment], foot: str, e: ValidationErrors) -> None:
    """The files do not validate (or refer to versions the registry lacks): no plan, the errors shown."""
    comment.upsert(ctx.client, ctx.pr.number, mine, view.invalid_comment(e.errors, foot))
    ctx.status(ctx.pr.head_sha, "failure", f"{len(e.errors)} problem(s) in the files; see the plan comment")


def _nothing(ctx: Context, mine: Sequence[comment.Comment], foot: str) -> Outcome:
    description = "No files in models/ change: nothing to approve"
    if mine:
        comment.upsert(ctx.client, ctx.pr.number, mine, view.no_models_comment(foot))
    ctx.status(ctx.pr.head_sha, "success", description)
    outputs.set_outputs(ctx.actions.output_path, {"state": "success", "has-changes": "false"})
    return Outcome("success", description)


def _planned(
    ctx: Context, desired: list[DesiredModel], changed: list[str], base: str, mine: Sequence[comment.Comment], foot: str
) -> Outcome:
    session = engine.Session.open()
    try:
        plan, live = engine.plan_and_live(session, desired)
    except ValidationErrors as e:  # references: a version the registry does not have, a failed run
        _invalid(ctx, mine, foot, e)
        raise
    except ReconcilerError as e:
        ctx.status(ctx.pr.head_sha, "error", f"Could not plan: {e}")  # the client masks, then cuts to 140
        raise
    plan = scoped(plan)
    rules = judge.base_rules(ctx.git, base, ctx.options.prefix, changed)
    live = with_gate_runs(session, plan, live, rules)
    gate_results = judge.evaluate_gates(plan, live, rules)
    reqs = judge.requirements(plan, rules, changed, ctx.options.prefix)
    judgement = judge.judge(
        reqs, ctx.client.reviews(ctx.pr.number), ctx.pr.author, ctx.pr.head_sha, ctx.git, ctx.options.prefix,
        ctx.members, gate_results,
    )  # fmt: skip
    smoked = judge.smoke_tests(plan, live, rules, desired, session.target, ctx.options.cwd, ctx.options.prefix)
    judgement = dataclasses.replace(
        judgement, smoke=smoked, gates_ok=judgement.gates_ok and smoke_report.passed(smoked)
    )
    data = comment.PlanData(
        plan_hash=plan.plan_hash,
        changes_digest=plan.changes_digest,
        head=ctx.pr.head_sha,
        base=base,
        gates_ok=judgement.gates_ok,
        changes=plan.changes,
        changed=tuple(changed),
        scope=plan.scope,
    )
    return show(ctx, plan, judgement, data, mine, foot, rules.skipped)


def with_gate_runs(session: engine.Session, plan: Plan, live: LiveState, rules: judge.Base) -> LiveState:
    ids = judge.gate_runs(plan, live, rules)
    if not ids:
        return live
    if session.target.is_http:
        return LiveState(live.models, {**live.runs, **session.reader.runs(ids)})
    from reconciler.registry.clients import translate_errors

    with translate_errors(session.target):
        return LiveState(live.models, {**live.runs, **session.reader.runs(ids)})


def show(
    ctx: Context,
    plan: Plan,
    judgement: judge.Judgement,
    data: comment.PlanData,
    mine: Sequence[comment.Comment],
    foot: str,
    skipped: Sequence[str] = (),
) -> Outcome:
    state, description = judgement.status()
    gates_md = gates_markdown(judgement.gates)
    status_md = view.status_line(judgement, judge.STATUS_CONTEXT, bool(judgement.gates))
    plan_md = render.to_markdown(plan)
    smoke_md = smoke_report.markdown(judgement.smoke)
    body = view.plan_comment(
        status_md, plan_md, gates_md, approvals_markdown(judgement.verdict), foot, comment.encode(data), smoke_md
    )
    posted = comment.upsert(ctx.client, ctx.pr.number, mine, body)
    ctx.status(data.head, state, description)
    for warning in (*judgement.warnings, *skipped):
        outputs.annotate("warning", warning)
    outputs.summary(
        ctx.actions.summary_path,
        "\n\n".join([status_md, plan_md, gates_md, smoke_md, approvals_markdown(judgement.verdict)]),
    )
    outputs.set_outputs(
        ctx.actions.output_path,
        {
            "state": state,
            "has-changes": str(plan.has_changes()).lower(),
            "plan-hash": plan.plan_hash,
            "changes-digest": plan.changes_digest,
            "comment-id": str(posted.id),
        },
    )
    return Outcome(state, description, posted.id, plan)
