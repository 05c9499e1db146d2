"""reconciler apply: apply a saved plan (refusing a stale one) or plan and apply in one step."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import click

from reconciler import api, render
from reconciler.apply import Audit, Report
from reconciler.commands import err, models_dir_option, out, progress, status
from reconciler.errors import ApplyFailed, PlanFileError, ReconcilerError
from reconciler.plan import Plan


def read_plan(path: Path) -> Plan:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PlanFileError(f"{path}: no such plan file; make one with 'reconciler plan --out {path}'") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise PlanFileError(f"{path}: not a JSON plan ({e}); make one with 'reconciler plan --out'") from None
    return Plan.from_json(data, str(path))


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
    "--concurrency",
    type=click.IntRange(1, 64),
    default=8,
    show_default=True,
    help="Parallel writes against an HTTP registry.",
)
def command(
    plan_file: Path | None,
    models_dir: Path,
    yes: bool,
    commit: str | None,
    pull_request: str | None,
    approvers: str | None,
    actor: str | None,
    concurrency: int,
) -> int:
    """Apply PLAN_FILE exactly as reviewed, or (without it) plan and apply the files in one step."""
    session = api.Session.open()

    def audit_of(p: Plan) -> Audit:
        return Audit(p.plan_hash, commit, pull_request, _split(approvers), actor or getpass.getuser())

    if plan_file is not None:
        saved = read_plan(plan_file)
        with status(f"Checking {session.target.describe()} against {plan_file}…"):
            the_plan, live = api.fresh_or_stale(session, saved, str(plan_file))
        if the_plan is None:
            completed = api.complete_audit(session, saved, audit_of(saved), live, concurrency)
            if not completed.audits:
                out.print(f"Nothing to do: the registry already matches {plan_file}.")
                return 0
            out.print(f"The registry already matches {plan_file}; completing its audit trail.")
            return _report(completed, plan_file)
    else:
        desired = api.load(models_dir)
        with status(f"Reading {session.target.describe()}…"):
            the_plan, live = api.plan_and_live(session, desired)
    render.to_text(the_plan, out, session.target.describe())
    if not the_plan.has_changes():
        return 0
    if plan_file is None and not yes:
        if not err.is_terminal:
            raise ReconcilerError(
                "refusing to apply an unreviewed plan without a terminal to confirm on; "
                "pass --yes, or apply a saved plan: reconciler plan --out plan.json"
            )
        click.confirm("Apply these changes?", abort=True, err=True)
    with progress("Applying", len(the_plan.changes)) as advance:
        report = api.apply(session, the_plan, audit_of(the_plan), concurrency, advance, live)
    return _report(report, plan_file)


def _report(report: Report, plan_file: Path | None) -> int:
    failed, unaudited = report.failed(), report.audit_failed()
    applied = len(report.results) - len(failed)
    out.print(f"\nApplied {applied} change(s); audit trail written on {report.audited} entit(ies).")
    for r in failed:
        err.print(f"failed: {r.change.address}: {r.error}", style="red")
    for r in unaudited:
        err.print(f"audit record not written: {r.change.address}: {r.error}", style="red")
    if failed:
        raise ApplyFailed(
            f"{len(failed)} of {len(report.results)} change(s) failed (listed above); the rest were "
            "applied. Fix the cause and run 'reconciler plan' and 'apply' again: it converges"
        )
    if unaudited:
        again = (
            f"run 'reconciler apply {plan_file}' again to write the missing records"
            if plan_file
            else "a one-step apply cannot re-create them; apply saved plans (reconciler plan --out) so a re-run can"
        )
        raise ApplyFailed(
            f"every change was applied, but the audit record on {len(unaudited)} entit(ies) was not written "
            f"(listed above); {again}"
        )
    return 0
