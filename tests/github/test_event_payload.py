"""GITHUB_EVENT_PATH is read as saved plans are (reconciler/atomic.py `read_regular`): a regular file
of bounded size. /dev/zero grew the process to 22 GB until the OOM killer, and a FIFO blocked."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from reconciler.github import context
from reconciler.github.errors import GitHubError


def _env(path: Path | str) -> dict[str, str]:
    return {
        "GITHUB_REPOSITORY": "a/b",
        "GITHUB_TOKEN": "x",
        "GITHUB_EVENT_NAME": "push",
        "GITHUB_SHA": "a" * 40,
        "GITHUB_EVENT_PATH": str(path),
    }


def test_a_device_a_fifo_and_a_huge_file_are_one_line_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    os.mkfifo(tmp_path / "fifo")
    huge = tmp_path / "huge.json"
    with huge.open("wb") as f:
        f.truncate(context.MAX_EVENT_BYTES + 1)  # sparse: nothing is written
    cases = {
        "/dev/zero": "GITHUB_EVENT_PATH=/dev/zero: is a character device, not an event payload",
        str(tmp_path / "fifo"): "is a named pipe (FIFO), not an event payload",
        str(huge): "is over 64 MiB, not an event payload",
        str(tmp_path): "is a directory, not an event payload",
    }
    for path, said in cases.items():
        done: list[BaseException] = []
        reader = threading.Thread(target=_catch, args=(path, done), daemon=True)
        reader.start()
        reader.join(10)
        assert not reader.is_alive(), f"{path}: still reading"
        [error] = done
        assert isinstance(error, GitHubError) and said in str(error) and "\n" not in str(error), (path, error)


def _catch(path: str, done: list[BaseException]) -> None:
    try:
        context.from_env(_env(path))
    except BaseException as e:  # the test inspects what was raised
        done.append(e)


def test_a_regular_payload_still_reads(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text('{"ref": "refs/heads/main"}')
    assert context.from_env(_env(event)).event["ref"] == "refs/heads/main"
