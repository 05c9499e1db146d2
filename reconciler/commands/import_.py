"""reconciler import: write models/<name>.yaml from the live registry."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from reconciler import engine
from reconciler.atomic import check_target, write_atomic
from reconciler.commands import models_dir_option, out, status
from reconciler.errors import DesiredStateError, ReconcilerError, ValidationErrors
from reconciler.files import modelnames
from reconciler.files.importer import RegistryValueError, render_file
from reconciler.files.modelfiles import model_files, model_path
from reconciler.files.yamlsource import read_text
from reconciler.state import LiveState
from reconciler.text import printable


class _NameProblem(DesiredStateError):
    """A registered model's name no file can hold (or two that would share a file): rename it."""


@click.command("import")
@click.argument("names", nargs=-1)
@click.option("--all", "import_all", is_flag=True, help="Import every registered model.")
@models_dir_option
def command(names: tuple[str, ...], import_all: bool, models_dir: Path) -> int:
    """Write models/NAME.yaml for each NAME (or --all) from the registry; keeps comments in existing files."""
    if bool(names) == import_all:
        raise click.UsageError("give model NAMEs or --all (not both)")
    session = engine.Session.open()
    with status(f"Reading {session.target.describe()}…"):
        live = session.read(early=True)
    wanted = sorted(live.models) if import_all else list(names)
    missing = [n for n in wanted if n not in live.models]
    if missing:
        raise ReconcilerError(
            f"no registered model named {', '.join(map(repr, missing))} in "
            f"{session.target.describe()}; check the name (case matters)"
        )
    files, errors = _render(live, wanted, models_dir)
    if errors and not import_all:  # the names asked for: all of them or nothing
        raise ValidationErrors(errors)
    for path, (text, existing) in files.items():
        if text != existing:
            write_atomic(path, text)
        out.print(f"{'unchanged' if text == existing else 'wrote'} {printable(str(path))}")
    if errors:  # --all: every model that can have a file got it; the others, one line each
        raise ValidationErrors([*errors, _refused_summary(errors, len(files))])
    return 0


def _render(
    live: LiveState, wanted: Sequence[str], models_dir: Path
) -> tuple[dict[Path, tuple[str, str | None]], list[DesiredStateError]]:
    """Every file rendered before any is written; the models no file can hold, one error each. A
    models/ the selection rule refuses (a link, a clash) stops it all first."""
    have = {p.stem for p in model_files(models_dir)} if models_dir.exists() or models_dir.is_symlink() else set()
    twins = modelnames.twins(wanted)
    files: dict[Path, tuple[str, str | None]] = {}
    errors: list[DesiredStateError] = []
    for name in wanted:
        # Twins none of which has a file yet: which one to write is not for import to choose. (One
        # that has a file is updated; the others are refused by model_path, naming that file.)
        twin = name in twins and not have & {name, *twins[name]}
        why = modelnames.unmanageable(name) or (modelnames.twin_problem(name, twins[name]) if twin else None)
        if why is not None:
            errors.append(_NameProblem(f"model {_shown(name)}: {why}"))
            continue
        try:
            path = model_path(models_dir, name)  # an existing name.yml or name.YAML is updated in place
        except DesiredStateError as e:  # another file's name differs only in case: rename one model
            errors.append(_NameProblem(str(e)))
            continue
        try:
            existing = read_text(path) if check_target(path) else None
            files[path] = (render_file(live.models[name], existing, str(path)), existing)
        except DesiredStateError as e:
            errors.append(e)
    return files, errors


def _shown(name: str) -> str:
    return ascii(name) if len(name) <= 60 else ascii(name[:60]) + "…"


def _refused_summary(errors: Sequence[DesiredStateError], written: int) -> DesiredStateError:
    """The closing line, its advice that of the reasons above: a name to change in the registry, a
    value to change there, or an existing file to fix; the ones that apply, in one line."""
    names = any(isinstance(e, _NameProblem) for e in errors)
    values = any(isinstance(e, RegistryValueError) for e in errors)
    files = any(not isinstance(e, (_NameProblem, RegistryValueError)) for e in errors)
    registry = " or ".join(w for has, w in ((names, "rename those models"), (values, "change those values")) if has)
    advice = " and ".join(w for w in (registry and f"{registry} in the registry", files and "fix those files") if w)
    return DesiredStateError(
        f"{len(errors)} registered model(s) not imported (above), {written} file(s) written or unchanged; "
        f"{advice} as each line says, then import again, or leave them unmanaged"
    )
