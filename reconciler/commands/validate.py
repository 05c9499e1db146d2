"""reconciler validate: schema and semantic checks; with a registry, the references too."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import click

from reconciler.commands import err, models_dir_option, out, status
from reconciler.governance.repository import load_checked
from reconciler.state import DesiredModel, LiveState
from reconciler.text import printable
from reconciler.timing import phase


def _policy_notes(desired: Sequence[DesiredModel], live: LiveState) -> None:
    """What the plan would report that a policy cannot or will not do (reconciler/plan/retention.py)."""
    from reconciler.plan.render import note_line
    from reconciler.plan.retention import resolve

    for model in desired:
        if model.name in live.models:
            for n in resolve(model, live.models[model.name]).notes:
                err.print(f"note: {printable(model.source)}: {note_line(n)}")


def _registry_default() -> bool:
    return bool(os.environ.get("MLFLOW_TRACKING_URI") or os.environ.get("MLFLOW_REGISTRY_URI"))


@click.command("validate")
@models_dir_option
@click.option(
    "--registry/--offline",
    "use_registry",
    default=None,
    help="Also check versions, aliases and runs against the live registry "
    "[default: on when MLFLOW_TRACKING_URI or MLFLOW_REGISTRY_URI is set].",
)
def command(models_dir: Path, use_registry: bool | None) -> int:
    """Check every models/*.yaml file: syntax, schema, contradictions, and references."""
    with phase("load"):
        desired = load_checked(models_dir)[1]  # offline: nothing here imports a registry client
    checked = "schema and semantics"
    if use_registry if use_registry is not None else _registry_default():
        from reconciler import engine

        session = engine.Session.open()
        with status(f"Reading {session.target.describe()}…"):
            live = session.with_runs(desired, session.read(desired), changed_only=False)
        engine.check(desired, live, changed_only=False)
        checked += f", references against {session.target.describe()}"
        _policy_notes(desired, live)
    out.print(f"{len(desired)} model file(s) in {models_dir} are valid ({checked}).")
    if not desired:
        err.print(f"warning: {models_dir} has no *.yaml files")
    return 0
