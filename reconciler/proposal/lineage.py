"""Lineage: the tags training sets on a run and its model version, tying it to what made it, and
the view `reconciler show` prints of one version (run, lineage, audit records, promoting commits).
Pure: the journal entries and the version come in as values."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reconciler.apply.audit import describe

if TYPE_CHECKING:  # the journal reads MLflow; lineage only takes its entries as values
    from reconciler.apply.journal import Entry

PREFIX = "lineage."
GIT_COMMIT = PREFIX + "git_commit"  # the commit of the training code
DATA_FINGERPRINT = PREFIX + "data_fingerprint"  # sha256 of the training data, as training read it
WORKFLOW_RUN = PREFIX + "workflow_run"  # the CI run that trained it (a URL), or "local"
TAGS = (GIT_COMMIT, DATA_FINGERPRINT, WORKFLOW_RUN)


def workflow_run(env: Mapping[str, str]) -> str:
    """The GitHub Actions run's page, from the variables every job has; "local" outside one."""
    server, repo, run = env.get("GITHUB_SERVER_URL"), env.get("GITHUB_REPOSITORY"), env.get("GITHUB_RUN_ID")
    if server and repo and run:
        attempt = env.get("GITHUB_RUN_ATTEMPT")
        return f"{server}/{repo}/actions/runs/{run}" + (f"/attempts/{attempt}" if attempt else "")
    return "local"


def lineage_tags(tags: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in sorted(tags.items()) if k.startswith(PREFIX)}


@dataclass(frozen=True)
class Promotion:
    """One apply that changed this version (its stage, tags, description) or pointed an alias at it."""

    applied_at: str
    commit: str | None
    pull_request: str | None
    approvers: tuple[str, ...]
    actor: str | None
    changes: tuple[str, ...]
    run_id: str


def promotions(entries: Sequence[Entry], model: str, version: int) -> list[Promotion]:
    """The applies of the journal that touched `version` of `model`, oldest first."""
    out = []
    for e in entries:
        touched = [c for c in e.applied() if c.address.model == model and _touches(c, version)]
        if touched:
            a = e.audit
            out.append(
                Promotion(
                    a.applied_at,
                    a.commit,
                    a.pull_request,
                    a.approvers,
                    a.actor,
                    tuple(map(describe, touched)),
                    e.run_id,
                )
            )
    return sorted(out, key=lambda p: p.applied_at)


def _touches(c: object, version: int) -> bool:
    a = c.address  # type: ignore[attr-defined]
    if a.version == version:
        return True
    return a.field == "alias" and version in (c.after, c.before)  # type: ignore[attr-defined]
