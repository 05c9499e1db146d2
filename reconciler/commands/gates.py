"""reconciler gates MODEL --run RUN_ID: would a training run pass the model's gates today?

The training pipeline asks before it registers: a run that fails a gate of the review policy (the
gates a promotion of it to a protected alias or stage will face) is not registered, and the job
says which gate and why. Reads the registry; writes nothing.
"""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.commands import models_dir_option, out
from reconciler.errors import ReconcilerError
from reconciler.files.desired import load_file
from reconciler.governance.policy import combined, load_repository_policy
from reconciler.proposal import registry
from reconciler.proposal.evidence import gather
from reconciler.proposal.local import model_file
from reconciler.registry.target import resolve_target
from reconciler.text import printable


class GatesFailed(ReconcilerError):
    """The candidate run fails a gate."""


@click.command("gates")
@click.argument("model")
@click.option("--run", "run_id", required=True, help="The training run (not registered yet).")
@models_dir_option
def command(model: str, run_id: str, models_dir: Path) -> int:
    """Judge RUN_ID's metrics by MODEL's gates against the versions holding its protected aliases and stages."""
    desired = load_file(model_file(models_dir, model, needs="gates"))
    rules = combined(load_repository_policy(models_dir), desired)
    target = resolve_target()
    target.require_existing()
    view = registry.read_view(registry.open_client(target), target, model, registry.UNREGISTERED, run_id=run_id)
    run = view.versions[registry.UNREGISTERED].run
    if run is not None and run.deleted:
        raise GatesFailed(
            f"run {run_id} is deleted (in the tracking server's trash); restore it (`mlflow runs restore`) "
            "or judge a kept run; it is not registered"
        )
    if run is not None and run.status != "FINISHED":
        raise GatesFailed(f"run {run_id} is {run.status}, not FINISHED; it is not registered")
    evidence = gather(view, registry.UNREGISTERED, "candidate", rules)
    if not evidence.gates:
        out.print(f"{printable(model)}: no gates to pass (the review policy sets none for this model)")
        return 0
    failed = []
    for r in evidence.gates:
        current = f" (current v{r.move.current}: {r.current!r})" if r.current is not None else ""
        verdict = "passes" if r.passed else "FAILS"
        reason = r.reason.replace(f"v{registry.UNREGISTERED}'s", "the candidate's")
        line = f"{r.move.target}: {r.gate.metric} {r.rule()}: {r.candidate!r}{current} {verdict}"
        out.print(printable(line + (f" ({reason})" if reason else "")))
        if not r.passed:
            failed.append(f"{r.move.target} {r.gate.metric} {r.rule()}")
    if failed:
        raise GatesFailed(
            f"run {run_id} fails {len(failed)} gate(s) of {model!r}: {'; '.join(failed)}; it is not registered "
            "(improve the model, or change the gates in a reviewed pull request)"
        )
    return 0
