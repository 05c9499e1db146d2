"""Standard output that cannot be written (hostile9 #13), in every format and command: a full disk
is a one-line user error, a pipe closed early (`| head`) exits 1 silently, as README's table says;
neither is "a bug in reconciler" (exit 3) nor exit 0 after a cut document."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
from pathlib import Path

import click
import pytest

from reconciler import commands
from reconciler.error_handler import error_handler
from reconciler.errors import EXIT_USER_ERROR

ROOT = Path(__file__).resolve().parents[2]
BIG = "".join(f'  "line {i}": "{"x" * 60}",\n' for i in range(20_000))  # 1.5 MB, one write (plan --format json)


def _exit_code(stdout: io.TextIOBase, write) -> int:
    """The command `write` under the error handler, standard output being `stdout` (set here: a
    fixture's would be replaced by capsys's when the test is called)."""
    saved, sys.stdout = sys.stdout, stdout
    try:
        with pytest.raises(SystemExit) as exited, error_handler():
            write()
    finally:
        sys.stdout = saved
    return exited.value.code


@pytest.mark.parametrize(
    "write",
    [
        lambda: click.echo(BIG, nl=False),  # --format json and markdown
        lambda: [print(f"  ~ tag[t{i}]: 'a' -> 'b'") for i in range(3)],  # a few lines, flushed at the end
        lambda: commands.out.print("Plan: 0 to add"),  # Rich (text, history)
    ],
    ids=["one-write", "print", "rich"],
)
def test_a_full_disk_is_a_one_line_user_error(capsys, write):
    with open("/dev/full", "w") as full:
        assert _exit_code(full, write) == EXIT_USER_ERROR
    err = capsys.readouterr().err
    expected = "cannot write the output: no space left on device; free some space or redirect it elsewhere"
    assert err == f"error: {expected}; nothing was changed\n"


def test_a_pipe_closed_during_one_large_write_exits_1_silently(capsys):
    """`| head -c 10`: the reader takes ten bytes and goes away during the one large write, which
    was cut short without an error (exit 0 after 64 KiB)."""
    r, w = os.pipe()

    def read_ten() -> None:
        os.read(r, 10)
        os.close(r)

    reader = threading.Thread(target=read_ten)
    reader.start()
    with open(w, "w") as pipe:
        assert _exit_code(pipe, lambda: click.echo(BIG, nl=False)) == EXIT_USER_ERROR
    reader.join()
    assert capsys.readouterr().err == ""


COMMAND = """
import click
from reconciler.error_handler import error_handler
from tests.unit.test_output_lost import BIG
with error_handler():
    click.echo(BIG, nl=False)
"""


def test_a_process_whose_pipe_closes_after_ten_bytes_exits_1_silently():
    """As `reconciler plan --format json | head -c 10` runs (the CLI's handler, without MLflow's
    import): nothing is left for the interpreter's own flush at exit to fail on either."""
    p = subprocess.Popen([sys.executable, "-c", COMMAND], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.stdout is not None and p.stderr is not None
    assert p.stdout.read(10) == b'  "line 0"'
    p.stdout.close()
    err = p.stderr.read().decode()
    assert p.wait(timeout=60) == EXIT_USER_ERROR, err
    assert err == ""
