"""reconciler github propose-rollback: health, then ONE rollback pull request per breached model."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import click

from reconciler.commands import models_dir_option, out
from reconciler.commands.gh_options import token_option


@click.command("propose-rollback")
@models_dir_option
@token_option
@click.option("--base", help="The branch the pull request targets [default: GITHUB_REF_NAME, else main].")
def command(models_dir: Path, token: str | None, base: str | None) -> int:
    """Judge production health; for each breached model with monitoring.rollback: true, open or update the
    pull request that points its alias back at the previous holder (needs contents: write and
    pull-requests: write; reads the registry only). Exit 0 once every breach is handled (reported or
    proposed): the health job is the one that fails on a breach."""
    from reconciler.files.desired import load_models
    from reconciler.git import Git
    from reconciler.github import context, outputs
    from reconciler.github.proposals import ProposalClient
    from reconciler.github.rollback import propose
    from reconciler.monitoring.check import run
    from reconciler.registry.clients import mlflow_client, translate_errors
    from reconciler.registry.target import resolve_target
    from reconciler.text import printable

    actions = context.from_env(token=token)
    models = load_models(models_dir)
    target = resolve_target()
    with translate_errors(target):
        report = run(models, mlflow_client(target), datetime.now(timezone.utc))
    client = ProposalClient(actions.api_url, actions.token, actions.repository)
    done = propose(
        report, models, client, Git(Path.cwd()), actions.sha, base or os.environ.get("GITHUB_REF_NAME") or "main"
    )
    for p in done:
        out.print(
            f"{printable(p.model)}: {p.action}"
            + (f" #{p.number} {p.url}" if p.number else "")
            + (f" ({printable(p.why)})" if p.why else "")
        )
    pulls = ",".join(str(p.number) for p in done if p.number)
    breach = any(h.state.value == "breach" for h in report.results)
    outputs.set_outputs(actions.output_path, {"breach": str(breach).lower(), "pulls": pulls})
    return 0
