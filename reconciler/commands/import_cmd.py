"""reconciler import: write models/<name>.yaml from the live registry."""

from __future__ import annotations

from pathlib import Path

import click

from reconciler import api
from reconciler.atomic import check_target, write_atomic
from reconciler.commands import err, models_dir_option, out, status
from reconciler.errors import DesiredStateError, ReconcilerError, ValidationErrors
from reconciler.importer import render_file
from reconciler.modelfiles import model_path
from reconciler.text import printable
from reconciler.yamlsource import read_text


@click.command("import")
@click.argument("names", nargs=-1)
@click.option("--all", "import_all", is_flag=True, help="Import every registered model.")
@models_dir_option
def command(names: tuple[str, ...], import_all: bool, models_dir: Path) -> int:
    """Write models/NAME.yaml for each NAME (or --all) from the registry; keeps comments in existing files."""
    if bool(names) == import_all:
        raise click.UsageError("give model NAMEs or --all (not both)")
    session = api.Session.open()
    with status(f"Reading {session.target.describe()}…"):
        live = session.read()
    wanted = sorted(live.models) if import_all else list(names)
    missing = [n for n in wanted if n not in live.models]
    if missing:
        raise ReconcilerError(
            f"no registered model named {', '.join(map(repr, missing))} in "
            f"{session.target.describe()}; check the name (case matters)"
        )
    files, errors = {}, []
    for name in wanted:  # render everything first: nothing is written if any file would be invalid
        too_long = _too_long(name)
        if too_long and import_all:
            err.print(f"skipped: {printable(name[:60])}…: {too_long}")
            continue
        if too_long:
            errors.append(DesiredStateError(f"model {name[:60]!r}…: {too_long}"))
            continue
        try:
            path = model_path(models_dir, name)  # an existing name.yml or name.YAML is updated in place
            existing = read_text(path) if check_target(path) else None
            files[path] = (render_file(live.models[name], existing, str(path)), existing)
        except DesiredStateError as e:
            errors.append(e)
    if errors:
        raise ValidationErrors(errors)
    for path, (text, existing) in files.items():
        if text != existing:
            write_atomic(path, text)
        out.print(f"{'unchanged' if text == existing else 'wrote'} {path}")
    return 0


NAME_MAX = 255  # bytes in a file name (ext4, APFS, NTFS)


def _too_long(name: str) -> str | None:
    size = len(f"{name}.yaml".encode())
    if size <= NAME_MAX:
        return None
    return (
        f"its file {name[:20]}….yaml would have a name of {size} bytes, over the {NAME_MAX} file systems allow; "
        "rename the registered model to manage it (MLflow allows longer names)"
    )
