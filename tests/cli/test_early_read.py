"""The registry read starts before the imports and the file load (reconciler/registry/early_read.py), and
errors are what they were: a bad file first, then an unreachable registry, one line each."""

from __future__ import annotations

import os
import subprocess
import sys

import click
import pytest

from reconciler.commandline import APPLY_VALUE_OPTIONS, reads_registry_first
from reconciler.commands import apply as apply_cmd
from reconciler.errors import RegistryError
from reconciler.registry import early_read
from reconciler.registry.session import Session

NOBODY = "http://127.0.0.1:9"  # nobody listens


def _env(tmp_path, uri: str = NOBODY) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "RECONCILER_"))}
    env.update(XDG_CACHE_HOME=str(tmp_path / "cache"), MLFLOW_TRACKING_URI=uri, MLFLOW_HTTP_REQUEST_MAX_RETRIES="0")
    return env


def _plan(tmp_path, *extra: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "reconciler", "plan", "--models-dir", "m", *extra]
    return subprocess.run(cmd, env=_env(tmp_path), capture_output=True, text=True, timeout=120, cwd=tmp_path)


def test_apply_value_options_are_the_commands_own():
    takes_value = {
        name for p in apply_cmd.command.params if isinstance(p, click.Option) and not p.is_flag for name in p.opts
    }
    assert takes_value == APPLY_VALUE_OPTIONS


@pytest.mark.parametrize(
    ("args", "early"),
    [
        (["plan"], True),
        (["plan", "--out", "p.json"], True),
        (["import", "--all"], True),
        (["github", "check"], True),
        (["github", "drift", "--models-dir", "x"], True),
        (["github", "apply"], False),  # reads under the lock
        (["apply", "--yes"], True),
        (["apply", "--models-dir", "m", "--yes"], True),
        (["apply", "--commit=abc", "-y"], True),
        (["apply", "plan.json"], False),  # a saved plan is checked against a read under the lock
        (["apply", "--yes", "plan.json"], False),
        (["apply", "--", "-plan.json"], False),
        (["validate"], False),
        (["plan", "--help"], False),
        ([], False),
    ],
)
def test_which_command_lines_read_first(args, early):
    assert reads_registry_first(args) is early


def test_a_bad_file_is_reported_before_an_unreachable_registry(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "churn.yaml").write_text("name: churn\nversions: {1: {stage: Nowhere}}\n")
    done = _plan(tmp_path)
    assert done.returncode == 1
    assert "churn.yaml" in done.stderr and "cannot reach" not in done.stderr, done.stderr


def test_an_unreachable_registry_is_the_same_one_line_error(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "churn.yaml").write_text("name: churn\n")
    done = _plan(tmp_path, "--out", "p.json")
    assert done.returncode == 1 and not (tmp_path / "p.json").exists()
    assert done.stderr.strip().splitlines() == [
        f"error: cannot reach the registry {NOBODY} (ConnectionError); "
        "check MLFLOW_TRACKING_URI and that the server is up"
    ], done.stderr


def test_the_early_read_is_taken_once_and_raises_what_the_read_raised(tmp_path, monkeypatch):
    for k, v in _env(tmp_path).items():
        monkeypatch.setenv(k, v)
    early = early_read.start()
    assert early is not None and early.target.registry_uri == NOBODY
    session = Session.open()
    with pytest.raises(RegistryError) as taken:
        session.read(early=True)
    with pytest.raises(RegistryError) as fresh:  # the second read is a read of its own
        session.read(early=True)
    assert str(taken.value) == str(fresh.value)
    assert session.counter.calls == 2


def test_no_early_read_for_a_database(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    assert early_read.start() is None


def test_a_read_no_command_took_is_not_taken_by_the_next_command(tmp_path, monkeypatch):
    """Commands run one after another in one process (as tests/github/inproc.py runs them): the
    next command never gets the last one's read."""
    from reconciler.cli import cli

    for k, v in _env(tmp_path).items():
        monkeypatch.setenv(k, v)
    assert early_read.start() is not None
    cli.resolve_command(click.Context(cli), ["validate"])
    assert early_read.take(Session.open()) is None
