"""reconciler apply: apply a saved plan exactly (refusing a stale, edited or misdirected one), or
plan and apply in one step."""

from __future__ import annotations

import getpass
from pathlib import Path

import click
from rich.text import Text

from reconciler import engine
from reconciler.apply import execute
from reconciler.apply.audit import Audit
from reconciler.apply.journal import EXPERIMENT
from reconciler.commands import err, models_dir_option, out, progress, status
from reconciler.errors import ApplyFailed, ReconcilerError
from reconciler.plan import render, saved_plan
from reconciler.plan.values import Plan
from reconciler.registry.target import Target
from reconciler.text import plural, printable


def _split(values: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (values or "").split(",") if v.strip())


@click.command("apply")
@click.argument("plan_file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@models_dir_option
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation (plan-and-apply on a terminal).")
@click.option(
    "--commit", envvar="RECONCILER_COMMIT", help="Git commit to record in the audit trail [env RECONCILER_COMMIT]."
)
@click.option(
    "--pull-request", envvar="RECONCILER_PULL_REQUEST", help="Pull request to record [env RECONCILER_PULL_REQUEST]."
)
@click.option(
    "--approvers", envvar="RECONCILER_APPROVERS", help="Comma-separated approvers to record [env RECONCILER_APPROVERS]."
)
@click.option("--actor", envvar="RECONCILER_ACTOR", help="Who applies [env RECONCILER_ACTOR; default: the OS user].")
@click.option(
    "--concurrency", type=click.IntRange(1, 64), default=8, show_default=True, help="Parallel writes to a server."
)
@click.option(
    "--lock-timeout",
    type=click.FloatRange(0),
    default=600,
    show_default=True,
    help="Seconds to wait for another apply to the same registry to finish (0: refuse at once).",
)
@click.pass_context
def command(
    ctx: click.Context,
    plan_file: Path | None,
    models_dir: Path,
    yes: bool,
    commit: str | None,
    pull_request: str | None,
    approvers: str | None,
    actor: str | None,
    concurrency: int,
    lock_timeout: float,
) -> int:
    """Apply PLAN_FILE exactly as reviewed, or (without it) plan and apply the files in one step."""
    if plan_file is not None and ctx.get_parameter_source("models_dir") is not click.core.ParameterSource.DEFAULT:
        raise click.UsageError("a saved plan carries its desired state: --models-dir is not used with PLAN_FILE")
    lock_settings = execute.lock_settings_from_env()  # a bad RECONCILER_LOCK_TTL is refused before anything
    saved = saved_plan.read(plan_file) if plan_file is not None else None  # before the registry is opened
    session = engine.Session.open(write=True)
    # Without changes, apply only completes the audit records earlier applies left open.
    the_plan = saved if saved is not None else _plan_now(session, models_dir, yes)
    audit = Audit(the_plan.plan_hash, commit, pull_request, _split(approvers), actor or getpass.getuser())
    with progress("Applying", len(the_plan.changes)) as advance:
        options = execute.ApplyOptions(concurrency, lock_timeout, advance, _waiting, _warn, lock_settings)
        report = execute.apply(session, the_plan, audit, options)
    return _report(report, plan_file, session.target)


def _plan_now(session: engine.Session, models_dir: Path, yes: bool) -> Plan:
    desired = engine.load(models_dir)
    with status(f"Reading {session.target.describe()}…"):
        the_plan = engine.plan(session, desired)
    render.to_text(the_plan, out, session.target.describe())
    if the_plan.has_changes() and not yes:
        if not err.is_terminal:
            raise ReconcilerError(
                "refusing to apply an unreviewed plan without a terminal to confirm on; "
                "pass --yes, or apply a saved plan: reconciler plan --out plan.json"
            )
        click.confirm("Apply these changes?", abort=True, err=True)
    return the_plan


def _waiting(message: str) -> None:
    err.print(Text(printable(message), style="yellow"))


def _warn(message: str) -> None:
    err.print(Text(f"warning: {printable(message)}", style="yellow"))


def _journal_link(target: Target, experiment_id: str, run_id: str) -> str:
    """The journal's run: a link to the server's UI (MLflow's own links, which carry the password
    of the URI, are off: reconciler/registry/clients.py), or the run's id in `gitops.audit`."""
    link = target.web_link(f"#/experiments/{experiment_id}/runs/{run_id}")
    return link or f"run {run_id} in the experiment {EXPERIMENT!r} of {target.describe()}"


def _report(report: execute.Report, plan_file: Path | None, target: Target) -> int:
    for done in report.recovered:
        out.print(
            f"Completed {plural(done.written, 'audit record')} left open by an earlier apply "
            f"(journal run {done.entry.run_id}, plan {done.entry.audit.plan_hash[:19]}…)."
        )
    if report.already_applied:
        out.print(f"Nothing to do: the registry already matches {plan_file or 'the files'}.")
        return 0
    if not report.plan.has_changes():
        return 0
    failed, unrecorded = report.failed(), report.unrecorded()
    applied = len(report.results) - len(failed)
    out.print(
        f"\nApplied {plural(applied, 'change')}; audit record written on "
        f"{plural(len(report.records) - len(unrecorded), 'entity', 'entities')}."
    )
    if report.journal_run is not None:
        out.print(f"Journal: {_journal_link(target, *report.journal_run)}")
    for r in failed:
        err.print(
            Text(f"{r.outcome.value}: {printable(str(r.change.address))}: {printable(r.error or '')}", style="red")
        )
    for r in unrecorded:
        err.print(Text(f"audit record not written: {printable(str(r.change.address))}: {r.error}", style="red"))
    if report.journal_open is not None:
        err.print(Text(f"journal entry not closed: {printable(report.journal_open)}", style="red"))
    if report.lock_lost is not None:
        raise ApplyFailed(
            f"the apply stopped: {report.lock_lost}; {applied} of {plural(len(report.results), 'change')} were "
            "applied (the others are listed above). The next 'reconciler apply' records them and finishes the job"
        )
    if failed:
        raise ApplyFailed(
            f"{len(failed)} of {plural(len(report.results), 'change')} did not apply (listed above); the rest were "
            "applied and recorded. Fix the cause and run 'reconciler plan' and 'apply' again: it converges"
        )
    if unrecorded:
        raise ApplyFailed(
            f"every change was applied, but the audit record of {plural(len(unrecorded), 'entity', 'entities')} was "
            "not written (listed above); the journal lists them, and the next 'reconciler apply' writes them"
        )
    if report.journal_open is not None:
        raise ApplyFailed(
            "every change was applied and recorded, but the audit journal's entry of this apply could not be closed "
            "(above); the next 'reconciler apply' closes it"
        )
    return 0
