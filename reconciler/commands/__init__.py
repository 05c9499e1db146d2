"""One module per CLI verb; shared options and output helpers here."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console

models_dir_option = click.option(
    "--models-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("models"),
    show_default=True,
    help="Directory of desired-state files (one <model>.yaml per registered model).",
)

# markup=False: text from files or the registry (a tag key like "[team/]") is never read as Rich markup.
out = Console(highlight=False, soft_wrap=True, markup=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)


@contextmanager
def status(message: str) -> Iterator[None]:
    """A spinner on stderr for slow reads (only on a terminal)."""
    if err.is_terminal:
        with err.status(message):
            yield
    else:
        yield


@contextmanager
def progress(message: str, total: int) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr for long writes (only on a terminal, only when there is much to do)."""
    if not err.is_terminal or total < 20:
        yield lambda n: None
        return
    from rich.progress import Progress

    with Progress(console=err, transient=True) as bar:
        task = bar.add_task(message, total=total)
        yield lambda n: bar.advance(task, n)
