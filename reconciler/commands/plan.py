"""reconciler plan: read the live registry and show what apply would change."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from reconciler import engine, timing
from reconciler.atomic import OutputError, check_target, write_atomic
from reconciler.commands import models_dir_option, out, status
from reconciler.errors import EXIT_CHANGES
from reconciler.plan import render, saved_plan
from reconciler.timing import phase


@click.command("plan")
@models_dir_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
    help="How to print the plan.",
)
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Save the plan (JSON) for 'reconciler apply FILE'.",
)
@click.option(
    "--detailed-exitcode", is_flag=True, help="Exit 0 when there are no changes, 2 when there are, 1 on errors."
)
def command(models_dir: Path, fmt: str, out_file: Path | None, detailed_exitcode: bool) -> int:
    """Compute the changes that would make the registry match the files."""
    if out_file is not None:
        check_target(out_file)  # refused before the registry is read, not after
        _outside(out_file, models_dir)
    desired = engine.load(models_dir)
    session = engine.Session.open()
    with status(f"Reading {session.target.describe()}…"):
        the_plan = engine.plan(session, desired)
    timing.note("registry_calls", session.counter.calls)
    with phase("render"):
        if out_file is not None:
            write_atomic(out_file, saved_plan.saved_text(the_plan, out_file))
        if fmt == "text":
            render.to_text(the_plan, out, session.target.describe())
            if out_file is not None:
                # Quoted for a shell, after `--`: a name with spaces, `;` or a leading `-` pastes as that file.
                out.print(f"Saved the plan to {out_file}. Apply exactly it with: {apply_command(out_file)}")
        else:
            click.echo(render.RENDERERS[fmt](the_plan), nl=False)
    return EXIT_CHANGES if detailed_exitcode and the_plan.has_changes() else 0


def _outside(out_file: Path, models_dir: Path) -> None:
    """A saved plan is not desired state: written into models/ it would replace a model file or the
    review policy the plan was just computed from, or add a file every command then refuses."""
    target, models = out_file.resolve(), models_dir.resolve()
    if target == models or models in target.parents:
        raise OutputError(
            f"{out_file}: is inside the models directory {models_dir}; refusing to write a plan there: "
            "save it outside it (e.g. --out plan.json)"
        )


def apply_command(plan_file: Path) -> str:
    return f"reconciler apply -- {shlex.quote(str(plan_file))}"
