"""Apply on merge (a `push` to the default branch): what is applied is what was reviewed, or nothing.

1. The pushed commit must be the merge of exactly one pull request (GitHub's "pull requests
   associated with a commit"); a push without one is refused.
2. That pull request's plan comment (the bot's, data block signed when RECONCILER_PLAN_KEY is
   set) is what its reviewers saw.
3. The rules of the branch before the push judge again: approvals from GitHub's reviews (on the
   pull request's last head), gates on the plan made now.
4. The plan made now (the pushed files against the registry, read with the apply job's
   credentials) must make the same writes as the plan shown (`changes_digest`), or some of them
   (the others are in the registry already: a re-run after a partial apply); if not, nothing is
   applied, the pull request gets the difference and what to do, and the job fails.
5. Else `reconciler.apply.execute.apply`, which takes the registry lock, re-checks the plan under it and
   journals the apply, with the merge commit, pull request, plan hash and the approvers GitHub
   counted; the result is commented on the pull request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reconciler import engine
from reconciler.apply import execute
from reconciler.apply.audit import Audit
from reconciler.errors import ValidationErrors
from reconciler.git import Git
from reconciler.github import comment, files, judge, outputs
from reconciler.github.check import Options, head_is, scoped, team_members, with_gate_runs
from reconciler.github.client import Client, Comment, Pull
from reconciler.github.context import Actions, PushEvent
from reconciler.github.errors import GitHubError, Refused
from reconciler.github.markdown import difference, join, short
from reconciler.github.results import applied_comment, refusal_comment
from reconciler.github.view import invalid_list
from reconciler.plan.values import Plan
from reconciler.state import DesiredModel, LiveState
from reconciler.text import md_code

ZERO = "0" * 40
DRIFT_TODO = (
    "If the registry was changed by hand, undo that and re-run this job; otherwise open a pull request that "
    "touches the model's file, so the plan as it is now is reviewed, approved and applied"
)
POLICY_TODO = (
    "Open a pull request with the same change and merge it once the check passes; merging around the "
    "required status check does not reach the registry"
)
FILES_TODO = "Fix them in a pull request (reconciler validate --offline shows the same errors) and merge it"
REVIEW_TODO = "Open a pull request with the same change so its check posts the plan, and merge it once approved"


@dataclass(frozen=True)
class Merge:
    """The pushed commit, the branch before it, and the pull request merged."""

    sha: str
    before: str
    pr: Pull


@dataclass(frozen=True)
class Outcome:
    action: str  # applied, nothing, failed
    report: execute.Report | None = None


def merged_pull(client: Client, push: PushEvent) -> Pull:
    branch = push.ref.removeprefix("refs/heads/")
    pulls = [p for p in client.pulls_for_commit(push.after) if p.merged and p.base_ref == branch]
    if not pulls:
        raise Refused(
            f"commit {push.after[:12]} on {branch} is not the merge of a pull request: nothing was applied. Changes "
            "to models/ reach the registry through reviewed pull requests; open one (a platform admin can still "
            "apply a reviewed plan by hand with 'reconciler apply')"
        )
    if len(pulls) > 1:
        numbers = ", ".join(f"#{p.number}" for p in pulls)
        raise Refused(f"commit {push.after[:12]} belongs to several merged pull requests ({numbers}): nothing applied")
    return pulls[0]


class Applying:
    def __init__(self, actions: Actions, push: PushEvent, options: Options):
        self.actions, self.options = actions, options
        self.client = Client(actions.api_url, actions.token, actions.repository)
        self.members = team_members(self.client, actions, options.members_token)
        self.git = Git(options.cwd)
        if push.before in ("", ZERO):
            raise Refused(
                f"{push.ref} was created by this push: there is no branch before it to judge by; nothing applied"
            )
        self.merge = Merge(push.after, push.before, merged_pull(self.client, push))

    def refuse(self, why: str, todo: str, details: Sequence[str] = ()) -> Refused:
        """Comment on the pull request why nothing was applied and what to do; the error fails the job.
        `why` and `todo` are this module's own text; `details` is Markdown with every value escaped."""
        pr = self.merge.pr
        text = refusal_comment(self.actions, self.merge.sha, why, todo, details)
        self.client.create_comment(pr.number, text)
        outputs.summary(self.actions.summary_path, text)
        outputs.set_outputs(self.actions.output_path, {"applied": "false", "pull-request": str(pr.number)})
        return Refused(f"pull request #{pr.number}, merge {self.merge.sha[:12]}: {why}; {todo}")


def run(a: Applying) -> Outcome:
    head_is(a.git, a.merge.sha)
    comments = a.client.comments(a.merge.pr.number)
    data = _reviewed(a, comments)
    a.git.ensure([a.merge.before])
    changed = a.git.changed(a.merge.before, a.merge.sha)
    desired = _merged_files(a, changed)
    session = engine.Session.open(write=True)
    plan, live = engine.plan_and_live(session, desired)
    plan = scoped(plan)
    if not plan.has_changes():
        return _nothing(a, comments)
    judgement = _judge(a, session, plan, live, changed)
    if not judgement.ok:
        description = judgement.status()[1]
        raise a.refuse(
            f"the pull request does not meet the policy of the branch it was merged into ({description})",
            POLICY_TODO,
            [f"The policy, judged at merge: {md_code(description)}"],
        )
    if plan.changes_digest != data.changes_digest and not set(plan.changes) <= set(data.changes):
        raise a.refuse(_drifted(data, plan), DRIFT_TODO, difference(data.changes, plan.changes))
    return _apply(a, session, plan, judgement.approvers(), len(data.changes))


def _merged_files(a: Applying, changed: Sequence[str]) -> list[DesiredModel]:
    try:
        return files.load_changed(a.options.models_dir, changed, a.options.prefix)
    except ValidationErrors as e:
        raise a.refuse("the merged files do not validate", FILES_TODO, [invalid_list(e.errors)]) from None


def _judge(
    a: Applying, session: engine.Session, plan: Plan, live: LiveState, changed: Sequence[str]
) -> judge.Judgement:
    """The policy of the branch before the push, on the plan made now and the reviews GitHub has."""
    rules = judge.base_rules(a.git, a.merge.before, a.options.prefix, changed)
    live = with_gate_runs(session, plan, live, rules)
    pr = a.merge.pr
    return judge.judge(
        judge.requirements(plan, rules, changed, a.options.prefix), a.client.reviews(pr.number), pr.author,
        pr.head_sha, a.git, a.options.prefix, a.members, judge.evaluate_gates(plan, live, rules),
    )  # fmt: skip


def _reviewed(a: Applying, comments: Sequence[Comment]) -> comment.PlanData:
    mine = comment.mine(comments, a.options.bot)
    if not mine:
        raise a.refuse("the pull request has no plan comment from the check, so no plan was reviewed", REVIEW_TODO)
    try:
        return comment.decode(mine[0].body)
    except comment.BadData as e:
        raise a.refuse(f"its plan comment cannot be trusted: {e}", REVIEW_TODO) from None


def _drifted(data: comment.PlanData, plan: Plan) -> str:
    return (
        f"the plan at merge (digest {plan.changes_digest[:19]}…) differs from the plan last shown on the pull "
        f"request (digest {data.changes_digest[:19]}…, for head {data.head[:12]}): the registry changed since the "
        "review, or the pull request was merged before its plan was shown"
    )


def _nothing(a: Applying, comments: Sequence[Comment]) -> Outcome:
    print(f"The registry already matches the files of {a.merge.sha[:12]}: nothing to apply.")
    said = [c for c in comment.mine(comments, a.options.bot, comment.APPLY_MARKER) if a.merge.sha in c.body]
    if not said:
        a.client.create_comment(
            a.merge.pr.number,
            join(
                [
                    comment.APPLY_MARKER,
                    f"Merged as {short(a.merge.sha)}: the registry already matches; nothing to apply.",
                ]
            )
            + f"<!-- merge {a.merge.sha} -->\n",
        )
    outputs.set_outputs(a.actions.output_path, {"applied": "false", "pull-request": str(a.merge.pr.number)})
    return Outcome("nothing")


def _apply(a: Applying, session: engine.Session, plan: Plan, approvers: tuple[str, ...], reviewed: int) -> Outcome:
    """`plan` makes the reviewed writes, or some of them (the rest are in the registry already:
    an earlier run of this job applied them, or someone did by hand); nothing else."""
    actor = f"{a.actions.actor or 'github-actions'} via {a.actions.run_url or 'GitHub Actions'}"
    audit = Audit(plan.plan_hash, a.merge.sha, str(a.merge.pr.number), approvers, actor)
    report = execute.apply(session, plan, audit, execute.ApplyOptions(on_wait=_say, on_warning=_warn))
    text = applied_comment(a.actions, a.merge.sha, report, approvers, reviewed)
    a.client.create_comment(a.merge.pr.number, text)
    failed, unrecorded = report.failed(), report.unrecorded()
    outputs.summary(a.actions.summary_path, text)
    outputs.set_outputs(
        a.actions.output_path,
        {
            "applied": "true",
            "pull-request": str(a.merge.pr.number),
            "failed": str(len(failed)),
            "plan-hash": plan.plan_hash,
        },
    )
    if report.lock_lost is not None:
        raise GitHubError(
            f"the apply stopped: {report.lock_lost}; the comment on the pull request lists each change (applied, "
            "unconfirmed, not attempted); re-run this job: it records what was applied and applies the rest"
        )
    if report.journal_open is not None and not (failed or unrecorded):
        raise GitHubError(
            f"every change was applied and recorded, but the audit journal's entry could not be closed "
            f"({report.journal_open}); re-run this job: it closes it"
        )
    if failed or unrecorded:
        raise GitHubError(
            f"{len(failed)} change(s) failed and {len(unrecorded)} audit record(s) were not written (listed in the "
            "comment on the pull request); fix the cause and re-run this job: it applies what is still missing"
        )
    return Outcome("applied", report)


def _say(message: str) -> None:
    print(message, flush=True)


def _warn(message: str) -> None:
    outputs.annotate("warning", message)
