"""`reconciler github propose-rollback`: for each breached model that opted in
(`monitoring.rollback: true`), ONE pull request from its own branch that points the alias back at
the version that held it before (the audit journal says which), with the evidence in its body
(reconciler/monitoring/rollback.py). While the breach lasts the pull request is updated, never
repeated; its branch is only rewritten when the proposal itself changes. Nothing is written to the
registry: the rollback is applied when the pull request is reviewed and merged like any other."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reconciler.errors import DesiredStateError
from reconciler.git import Git
from reconciler.github.branches import BranchClient
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
    report: Report, models: Sequence[DesiredModel], client: BranchClient, git: Git, sha: str, base: str
) -> list[Proposal]:
    by_name = {m.name: m for m in models}
    return [
        _one(h, by_name[h.model], report, client, git, sha, base) for h in report.results if h.state is Health.BREACH
    ]


def _one(
    h: ModelHealth, model: DesiredModel, report: Report, client: BranchClient, git: Git, sha: str, base: str
) -> Proposal:
    spec = model.monitoring
    if spec is None or not spec.rollback:
        return Proposal(
            h.model, "not opted in", why=f"{model.source}: set monitoring.rollback: true to have it proposed"
        )
    p = report.promotions.get(h.model)
    if p is None or p.previous is None:
        return Proposal(h.model, "nothing to roll back to", why=rollback.no_previous(h, p))
    path = git.cwd / model.source if not Path(model.source).is_absolute() else Path(model.source)
    rel = path.resolve().relative_to(git.cwd.resolve()).as_posix()
    try:
        text = rollback.rolled_back(path.read_text(encoding="utf-8"), rel, p.alias, p.previous)
    except DesiredStateError as e:
        return Proposal(h.model, "refused", why=str(e))
    title, body, branch = rollback.title(h, p), rollback.body(h, p), rollback.branch(h.model)
    existing = client.open_pull_from(branch)
    if existing is not None and existing.title == title:
        client.update_pull(existing.number, title, body)  # the same proposal: fresh evidence, same branch
        return Proposal(h.model, "updated", existing.number, existing.html_url)
    client.reset_branch(branch, sha)
    blob = git.run("rev-parse", f"{sha}:{rel}").stdout.strip()
    client.put_file(branch, rel, text, blob, f"{title}\n\nProposed by reconciler github propose-rollback.")
    if existing is not None:
        client.update_pull(existing.number, title, body)
        return Proposal(h.model, "updated", existing.number, existing.html_url)
    made = client.create_pull(branch, base, title, body)
    return Proposal(h.model, "opened", made.number, made.html_url)
