"""`reconciler github propose-rollback`: for each breached model that opted in
(`monitoring.rollback: true`), ONE pull request from its own branch that points the alias back at
the version that held it before (the audit journal says which), with the evidence in its body
(reconciler/monitoring/rollback.py). While the breach lasts the pull request is updated, never
repeated; its branch is only rewritten when the proposal itself changes. Nothing is written to the
registry: the rollback is applied when the pull request is reviewed and merged like any other."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reconciler.git import Git
from reconciler.github.proposals import Conflict, ProposalClient
from reconciler.monitoring import rollback
from reconciler.monitoring.check import Report
from reconciler.monitoring.evaluate import Health, ModelHealth
from reconciler.state import DesiredModel


@dataclass(frozen=True)
class Proposal:
    model: str
    action: str  # opened, updated, not opted in, nothing to roll back to, refused
    number: int | None = None
    url: str = ""
    why: str = ""


def propose(
    report: Report, models: Sequence[DesiredModel], client: ProposalClient, git: Git, sha: str, base: str
) -> list[Proposal]:
    by_name = {m.name: m for m in models}
    return [
        _one(h, by_name[h.model], report, client, git, sha, base) for h in report.results if h.state is Health.BREACH
    ]


def _one(
    h: ModelHealth, model: DesiredModel, report: Report, client: ProposalClient, git: Git, sha: str, base: str
) -> Proposal:
    edit = rollback.plan(h, model, report.promotions.get(h.model), git.cwd)
    if isinstance(edit, rollback.Skipped):
        return Proposal(h.model, edit.action, why=edit.why)
    blob = git.run("rev-parse", f"{sha}:{edit.path}").stdout.strip()
    try:
        return _publish(client, edit, sha, blob, base)
    except Conflict as e:  # a concurrent run moved the branch or opened the pull request: the next run converges
        return Proposal(h.model, "refused", why=f"{e}; run the job again")


def _publish(client: ProposalClient, e: rollback.FileEdit, sha: str, blob: str, base: str) -> Proposal:
    """The branch reset to `sha` with the file committed, and its one open pull request opened or
    edited; a proposal already open under the same title only gets the fresh evidence."""
    existing = next((pr for pr in client.proposal_pulls(e.branch) if pr.state == "open"), None)
    if existing is None or existing.title != e.title:
        client.set_branch(e.branch, sha, exists=client.branch_tip(e.branch) is not None)
        client.commit_file(
            e.branch, e.path, e.after, blob, f"{e.title}\n\nProposed by reconciler github propose-rollback."
        )
    if existing is not None:
        client.edit_pull(existing.number, e.title, e.body)
        return Proposal(e.model, "updated", existing.number, existing.html_url)
    made = client.open_pull(e.branch, base, e.title, e.body)
    return Proposal(e.model, "opened", made.number, made.html_url)
