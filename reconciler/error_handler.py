"""The one place that maps exceptions to messages and exit codes."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from reconciler.errors import EXIT_INTERNAL, EXIT_USER_ERROR, ReconcilerError


def crash_log() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "reconciler" / "crash.log"


def _say(message: str) -> None:
    for line in message.splitlines():
        click.echo(f"error: {line}", err=True)


@contextmanager
def error_handler() -> Iterator[None]:
    try:
        yield
    except ReconcilerError as e:
        _say(str(e))
        raise SystemExit(EXIT_USER_ERROR) from None
    except click.exceptions.Abort:
        click.echo("aborted; nothing was changed", err=True)
        raise SystemExit(EXIT_USER_ERROR) from None
    except click.ClickException as e:
        e.show()
        raise SystemExit(EXIT_USER_ERROR) from None
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        raise SystemExit(130) from None
    except Exception as e:
        log = crash_log()
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(traceback.format_exc())
        _say(f"internal error: {type(e).__name__}: {e}")
        click.echo(f"This is a bug in reconciler. The traceback is in {log}; please report it.", err=True)
        sys.stdout.flush()
        raise SystemExit(EXIT_INTERNAL) from None
