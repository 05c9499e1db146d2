"""reconciler health: every monitored model's served version against its thresholds."""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

import click
from rich.table import Table

from reconciler import timing
from reconciler.commands import err, models_dir_option, out, status
from reconciler.files.desired import load_models
from reconciler.monitoring.check import Report, run
from reconciler.monitoring.evaluate import Health
from reconciler.monitoring.rollback import FileEdit, Skipped, plan
from reconciler.registry.clients import mlflow_client, translate_errors
from reconciler.registry.target import resolve_target
from reconciler.state import DesiredModel
from reconciler.text import printable

EXIT_HEALTHY, EXIT_BREACH, EXIT_UNKNOWN = 0, 1, 2


@click.command("health")
@models_dir_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--now", type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S"]), help="Judge as of (UTC).")
@click.option("--lookback-hours", type=click.FloatRange(min=0, min_open=True), help="How far back to read runs.")
@click.option(
    "--rollback-diff",
    is_flag=True,
    help="Also show, per breached model, the model-file change `github propose-rollback` would propose "
    "(run from the repository root; writes nothing).",
)
def command(models_dir: Path, fmt: str, now: datetime | None, lookback_hours: float | None, rollback_diff: bool) -> int:
    """Judge every monitored model's served version by its production runs.

    Exit 0: all healthy; 1: a breach, or an alert that could not be delivered or remembered; 2: no breach, but a
    model could not be judged (too few samples, a metric never logged). With RECONCILER_ALERT_WEBHOOK
    set, a breach is posted once (and "resolved" when it clears).
    """
    models = load_models(models_dir)
    when = (now or datetime.now(timezone.utc)).replace(tzinfo=(now.tzinfo if now and now.tzinfo else timezone.utc))
    target = resolve_target()
    target.require_existing()
    with status("Reading production runs…"), translate_errors(target):
        report = run(models, mlflow_client(target), when, lookback_hours)
    timing.note("registry_calls", report.calls)
    edits = _rollbacks(report, models) if rollback_diff else None
    if fmt == "json":
        click.echo(json.dumps(_json(report, edits), indent=2, ensure_ascii=False))
    else:
        _text(report)
        _show_rollbacks(edits or [])
    return _code(report)


def _rollbacks(report: Report, models: Sequence[DesiredModel]) -> list[FileEdit | Skipped]:
    by_name = {m.name: m for m in models}
    return [
        plan(h, by_name[h.model], report.promotions.get(h.model), Path.cwd())
        for h in report.results
        if h.state is Health.BREACH
    ]


def _diff(e: FileEdit) -> str:
    lines = difflib.unified_diff(
        e.before.splitlines(keepends=True), e.after.splitlines(keepends=True), f"a/{e.path}", f"b/{e.path}"
    )
    return "".join(lines)


def _show_rollbacks(edits: Sequence[FileEdit | Skipped]) -> None:
    for e in edits:
        if isinstance(e, Skipped):
            out.print(f"rollback of {printable(e.model)}: {e.action} ({printable(e.why)})")
            continue
        out.print(f"\n{printable(e.title)}: the change `reconciler github propose-rollback` would propose")
        for line in _diff(e).splitlines():
            out.print(printable(line))


def _code(report: Report) -> int:
    if any(h.state is Health.BREACH for h in report.results) or any(
        not (d.ok and d.remembered) for d in report.deliveries
    ):
        return EXIT_BREACH
    if any(h.state is Health.UNKNOWN for h in report.results):
        return EXIT_UNKNOWN
    return EXIT_HEALTHY


def _json(report: Report, edits: Sequence[FileEdit | Skipped] | None = None) -> dict:
    doc = {
        "models": [h.to_json() for h in report.results],
        "alerts": [
            {
                "kind": d.alert.kind,
                "model": d.alert.model,
                "version": d.alert.version,
                "delivered": d.ok,
                "remembered": d.ok and d.remembered,
                "attempts": d.attempts,
                "error": d.error,
            }
            for d in report.deliveries
        ],
        "registry_calls": report.calls,
    }
    if edits is not None:
        doc["rollbacks"] = [
            {"model": e.model, "action": e.action, "why": e.why}
            if isinstance(e, Skipped)
            else {"model": e.model, "action": "would propose", "title": e.title, "path": e.path, "diff": _diff(e)}
            for e in edits
        ]
    return doc


def _text(report: Report) -> None:
    if not report.results:
        out.print("No model file has a monitoring: section with an alias it sets: nothing to judge.")
        return
    t = Table(title="Production health")
    for column in ("model", "version", "state", "samples", "metric", "value", "rule", "why"):
        t.add_column(column)
    for h in report.results:
        rows = h.results or ()
        first = [printable(h.model), f"v{h.version}", h.state.value, f"{h.samples:g}"]
        if not rows:
            t.add_row(*first, "", "", "", printable(h.reason))
        for i, r in enumerate(rows):
            value = "" if r.value is None else f"{r.value:.4g}"
            cells = first if i == 0 else ["", "", "", ""]
            t.add_row(*cells, printable(r.threshold.metric), value, r.rule(), printable(r.reason))
    out.print(t)
    for h in report.results:
        if h.state is not Health.HEALTHY:
            out.print(f"{h.state.value}: {printable(h.model)} v{h.version}: {printable(h.reason)}")
    for d in report.deliveries:
        what = f"{d.alert.kind} alert for {printable(d.alert.model)} v{d.alert.version}"
        if d.ok and not d.remembered:
            err.print(f"error: the {what}: {printable(d.error)}")
        elif d.ok:
            out.print(f"sent the {what} ({d.attempts} attempt(s))")
        else:
            err.print(f"error: could not deliver the {what} after {d.attempts} attempt(s): {printable(d.error)}; "
                      "it is sent again next run")  # fmt: skip
