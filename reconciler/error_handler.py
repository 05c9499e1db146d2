"""The one place that maps exceptions to messages and exit codes. Everything a command prints,
logs or warns inside it is masked (reconciler/output.py), and so is the crash log."""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import traceback
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import click

from reconciler import interrupt
from reconciler.errors import EXIT_INTERNAL, EXIT_USER_ERROR, ReconcilerError
from reconciler.masking import clip, mask
from reconciler.output import OutputLost, masked_output

EXIT_SIGINT = 128 + signal.SIGINT  # 130, as a shell reports a process Ctrl-C stopped
EXIT_SIGTERM = 128 + signal.SIGTERM  # 143


def crash_log() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "reconciler" / "crash.log"


def _say(message: str) -> None:
    for line in message.splitlines():
        click.echo(f"error: {line}", err=True)


@contextmanager
def error_handler() -> Iterator[None]:
    with masked_output(), interrupt.handled():
        try:
            yield
            sys.stdout.flush()  # all of the output is written before the exit code says the command succeeded
        except OutputLost as e:
            if not e.closed:  # a pipe closed early (| head) is not an error to show
                _say(f"{e}; {interrupt.left()}")  # the command stopped where it was, an apply too
            raise SystemExit(EXIT_USER_ERROR) from None
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
            raise interrupted(signal.SIGINT) from None
        except interrupt.Interrupted as e:
            raise interrupted(e.signum) from None
        except SystemExit as e:
            if e.code != EXIT_SIGTERM:  # the registry lock's own SIGTERM handler exits so (reconciler/apply/lock.py)
                raise
            raise interrupted(signal.SIGTERM) from None
        except Exception as e:
            _internal(e)
            raise SystemExit(EXIT_INTERNAL) from None


def interrupted(signum: int) -> SystemExit:
    name = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
    click.echo(f"interrupted ({name}); {interrupt.left()}", err=True)
    return SystemExit(128 + signum)


def _internal(e: Exception) -> None:
    text = mask(traceback.format_exc())
    _say(f"internal error: {type(e).__name__}: {clip(_first_line(_described(e)), 300)}")
    where, reason = "~/.cache/reconciler/crash.log", None
    try:
        log = crash_log()
        where = str(log)
        _save(log, text)
    except (OSError, RuntimeError) as why:  # RuntimeError: Path.home() without HOME or a user entry
        reason = f"{type(why).__name__}: {why}"
    if reason is None:
        click.echo(f"This is a bug in reconciler. The traceback is in {where}; please report it.", err=True)
    else:
        click.echo(
            f"This is a bug in reconciler; please report it with the traceback below ({where} could not be "
            f"written: {reason}):",
            err=True,
        )
        click.echo(text.rstrip("\n"), err=True)
    with suppress(OutputLost):  # the error is the one to report
        sys.stdout.flush()


def _described(e: Exception) -> str:
    """A codec error's own text quotes the character and its position, perhaps one of a password's."""
    if isinstance(e, UnicodeEncodeError | UnicodeDecodeError):
        return f"{e.encoding!r} codec: {e.reason} (the traceback has where)"
    return str(e)


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0] if lines else "(no message)"


def _save(log: Path, text: str) -> None:
    """A new file of mode 0600 in the log's directory (O_EXCL, no symlink followed), renamed over
    crash.log: a symlink or a hard link there is replaced, never written through."""
    log.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=log.parent, prefix=".crash-", suffix=".log")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, log)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
