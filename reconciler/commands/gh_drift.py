"""reconciler github drift: plan every model against the registry and keep ONE drift issue in step."""

from __future__ import annotations

from pathlib import Path

import click

from reconciler import engine
from reconciler.commands import models_dir_option, out, status
from reconciler.commands.gh_options import token_option
from reconciler.plan import render


@click.command("drift")
@models_dir_option
@token_option
def command(models_dir: Path, token: str | None) -> int:
    """Open, update or close the `registry-drift` issue (needs `issues: write`; reads the registry only)."""
    from reconciler.github import context, drift, outputs
    from reconciler.github.client import Client

    actions = context.from_env(token=token)
    desired = engine.load(models_dir)
    session = engine.Session.open()
    with status(f"Reading {session.target.describe()}…"):
        the_plan = engine.plan(session, desired)
    outcome = drift.report(Client(actions.api_url, actions.token, actions.repository), actions, the_plan)
    if the_plan.has_changes():
        outputs.summary(actions.summary_path, "## Registry drift\n\n" + render.to_markdown(the_plan))
    else:
        outputs.summary(actions.summary_path, f"The registry matches models/ at {actions.sha}.")
    outputs.set_outputs(
        actions.output_path,
        {"drift": str(the_plan.has_changes()).lower(), "issue": str(outcome.issue or ""), "action": outcome.action},
    )
    out.print(render.summary(the_plan))
    out.print(f"drift issue: {outcome.action}" + (f" #{outcome.issue} {outcome.url}" if outcome.issue else ""))
    return 0
