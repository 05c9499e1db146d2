"""reconciler smoke MODEL VERSION: the pull-request check's smoke test, run locally (read only)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from reconciler.commands import out, status
from reconciler.errors import EXIT_USER_ERROR
from reconciler.registry.target import resolve_target
from reconciler.smoke import Outcome
from reconciler.smoke.report import table
from reconciler.smoke.run import Request, smoke
from reconciler.text import printable


@click.command("smoke")
@click.argument("model")
@click.argument("version", type=click.IntRange(min=1))
@click.option(
    "--sample",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A scoring-server JSON payload to score instead of the version's logged input example.",
)
@click.option(
    "--latency-budget-ms", type=click.FloatRange(min=0, min_open=True), help="Fail when scoring takes longer."
)
@click.option("--require-example", is_flag=True, help="Fail (exit 1) when there is nothing to score.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def command(
    model: str, version: int, sample: Path | None, latency_budget_ms: float | None, require_example: bool, fmt: str
) -> int:
    """Score a version's input example as the scoring server would and check it against its signature.

    Exit 0: passed (or not tested, without --require-example); 1: failed. Nothing is written to the registry.
    """
    target = resolve_target()
    target.require_existing()
    with status(f"Smoke-testing {model} v{version}…"):
        result = smoke(Request(model, version, sample, latency_budget_ms), target)
    if fmt == "json":
        click.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    else:
        out.print(table([result]))
        for reason in result.reasons:
            out.print(f"{result.outcome.value}: {printable(reason)}")
    failed = result.outcome is Outcome.FAILED or (require_example and result.outcome is Outcome.NOT_TESTED)
    return EXIT_USER_ERROR if failed else 0
