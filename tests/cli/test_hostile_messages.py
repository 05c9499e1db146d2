"""What reaches the terminal when the input is hostile or mistyped, and how the process ends: the
CLI as a subprocess (no server: the URIs here reach nothing)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import secrets_scan

SECRET = "S3cretPW-hostile-9f2c"  # fixed: parametrized ids must be the same in every xdist worker
secrets_scan.register(SECRET)


def run(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    base["XDG_CACHE_HOME"] = str(cwd / "cache")
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        cwd=cwd,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "churn.yaml").write_text("name: churn\ndescription: Churn model\n")
    return tmp_path


@pytest.mark.parametrize(
    "uri",
    [
        f"postgres://bob:{SECRET}@127.0.0.1:1/db",  # MLflow quotes the URI it does not support
        f"htps://bob:{SECRET}@127.0.0.1:1/db",
        f"http//bob:{SECRET}@127.0.0.1:1/db",
        f"http:/bob:{SECRET}@127.0.0.1:1/db",
        f"bob:{SECRET}@127.0.0.1:1/db",
        f"https://{SECRET}@127.0.0.1:1/",
        f"postgresql://127.0.0.1:1/db?sslmode=disable&password={SECRET}",
    ],
)
def test_a_mistyped_tracking_uri_is_never_printed_with_its_password(checkout, uri):
    done = run(checkout, "plan", env={"MLFLOW_TRACKING_URI": uri})
    assert done.returncode == 1, done.stderr
    assert SECRET not in done.stdout + done.stderr, done.stderr
    assert done.stderr.startswith("error: ") and len(done.stderr.splitlines()) == 1, done.stderr


@pytest.mark.parametrize(
    ("uri", "words"),
    [
        (f"http://u:{SECRET}@[::1", "MLFLOW_TRACKING_URI is not a URI (http://u:***@[::1: Invalid IPv6 URL)"),
        (f"sqlite://u:{SECRET}@/x.db", "MLFLOW_TRACKING_URI sqlite://u:***@/x.db names no SQLite file"),
        (f"postgresql://u:{SECRET}@db:abc/x", "MLFLOW_TRACKING_URI is not a URI (postgresql://u:***@db:abc/x: Port"),
        (f"https://u:{SECRET}@[zz]/", "MLFLOW_TRACKING_URI is not a URI (https://u:***@[zz]/:"),
    ],
)
def test_a_uri_that_cannot_be_parsed_is_a_one_line_user_error(checkout, uri, words):
    """They were internal errors (exit 3), with the traceback saved."""
    done = run(checkout, "plan", env={"MLFLOW_TRACKING_URI": uri})
    assert done.returncode == 1 and words in done.stderr, done.stderr
    assert len(done.stderr.splitlines()) == 1 and SECRET not in done.stderr
    assert not (checkout / "cache").exists()


CRASH = f"""
import sys
from reconciler.error_handler import error_handler
with error_handler():
    raise RuntimeError("boom: could not reach http://admin:{SECRET}@127.0.0.1:5000/x\\nsecond line")
"""


def crash(cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """An internal error in a real process, through the real error handler."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    return subprocess.run(
        [sys.executable, "-c", CRASH], cwd=cwd, env={**base, **env}, capture_output=True, text=True, timeout=120
    )


def test_the_crash_log_is_private_masked_and_never_written_through_a_symlink(tmp_path):
    cache = tmp_path / "cache"
    (cache / "reconciler").mkdir(parents=True)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    (cache / "reconciler" / "crash.log").symlink_to(victim)
    done = crash(tmp_path, {"XDG_CACHE_HOME": str(cache)})
    assert done.returncode == 3, done.stderr
    log = cache / "reconciler" / "crash.log"
    assert victim.read_text() == "keep me\n" and not log.is_symlink()
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    text = log.read_text()
    assert "RuntimeError: boom: could not reach http://admin:***@127.0.0.1:5000/x" in text and SECRET not in text
    assert done.stderr.splitlines()[0] == (
        "error: internal error: RuntimeError: boom: could not reach http://admin:***@127.0.0.1:5000/x"
    )
    assert f"The traceback is in {log}" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("where", ["under a file", "read-only home"])
def test_a_crash_log_that_cannot_be_written_still_gives_one_error_line_and_the_traceback(tmp_path, where):
    """The handler itself failed with two raw tracebacks."""
    if where == "under a file":
        (tmp_path / "file").write_text("")
        env = {"XDG_CACHE_HOME": str(tmp_path / "file" / "cache")}
    else:
        if os.geteuid() == 0:  # root writes into a read-only directory: make HOME unwritable another way
            (tmp_path / "home").write_text("")
        else:
            (tmp_path / "home").mkdir(mode=0o500)
        env = {"HOME": str(tmp_path / "home"), "XDG_CACHE_HOME": ""}
    done = crash(tmp_path, env)
    assert done.returncode == 3, done.stderr
    lines = done.stderr.splitlines()
    assert lines[0] == "error: internal error: RuntimeError: boom: could not reach http://admin:***@127.0.0.1:5000/x"
    assert "crash.log could not be written" in lines[1] and "please report it" in lines[1]
    assert lines[2] == "Traceback (most recent call last):" and lines[-2].startswith("RuntimeError: boom")
    assert done.stderr.count("Traceback") == 1 and SECRET not in done.stderr


LOGS = f"""
import logging, warnings
import mlflow  # gives its loggers (and alembic's) a handler of their own, propagate = False
logging.basicConfig()  # a root handler made before the command, holding the original stderr (urllib3 propagates)
from reconciler.error_handler import error_handler
uri = "http://admin:{SECRET}@127.0.0.1:5000"
with error_handler():
    logging.getLogger("mlflow.tracking").warning("MLflow: %s", uri)
    logging.getLogger("alembic.runtime.migration").warning("alembic: %s", uri)
    logging.getLogger("urllib3.connectionpool").warning("urllib3: Retrying after broken connection %s", uri)
    warnings.warn("a warning: " + uri, UserWarning, stacklevel=1)
    print("printed:", uri)
"""


def test_mlflow_alembic_and_urllib3_log_lines_and_warnings_are_masked_in_a_real_process(tmp_path):
    base = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    done = subprocess.run([sys.executable, "-c", LOGS], cwd=tmp_path, env=base, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert SECRET not in done.stdout + done.stderr
    for line in ("MLflow: ", "alembic: ", "urllib3: Retrying after broken connection ", "a warning: "):
        assert f"{line}http://admin:***@127.0.0.1:5000" in done.stderr, done.stderr
    assert "printed: http://admin:***@127.0.0.1:5000" in done.stdout


def test_a_deleted_audit_journal_is_refused_with_how_to_restore_it(checkout):
    """MLflow keeps a deleted experiment (and its runs), so the journal could neither be written nor
    made again; apply failed with MLflow's "must be in the 'active' state" and no hint."""
    from mlflow import MlflowClient

    uri = f"sqlite:///{checkout / 'mlflow.db'}"
    assert run(checkout, "apply", "--yes").returncode == 0
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    journal = client.get_experiment_by_name("gitops.audit").experiment_id
    client.delete_experiment(journal)
    (checkout / "models" / "churn.yaml").write_text("name: churn\ndescription: Churn model, v2\n")

    done = run(checkout, "apply", "--yes")

    assert done.returncode == 1, done.stderr
    hint = f"mlflow experiments restore --experiment-id {journal}"
    assert f"the audit journal (the experiment 'gitops.audit', id {journal}) is deleted" in done.stderr
    assert f"nothing was written. Restore it: {hint}" in done.stderr and len(done.stderr.splitlines()) == 1
    assert client.get_registered_model("churn").description == "Churn model"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    restored = subprocess.run(
        [sys.executable, "-m", "mlflow", *hint.split()[1:]],
        env={**env, "MLFLOW_TRACKING_URI": uri},
        cwd=checkout,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert restored.returncode == 0, restored.stderr
    again = run(checkout, "apply", "--yes")
    assert again.returncode == 0, again.stderr
    assert client.get_registered_model("churn").description == "Churn model, v2"
