"""What the user's terminal gets from a real `reconciler apply` against `mlflow server` with basic
auth, when the password is in MLFLOW_TRACKING_URI: no line of MLflow's, urllib3's or anyone's
with the password in it, and the journal's run linked by the reconciler itself, masked."""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.integration.conftest import Stack, run_cli

pytestmark = pytest.mark.integration


def test_apply_with_the_password_in_the_uri_prints_it_nowhere_and_links_the_journal_run(
    live_stack: Stack, tmp_path: Path
):
    model = f"masked-{secrets.token_hex(3)}"
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / f"{model}.yaml").write_text(f"name: {model}\ndescription: first\n")
    env = live_stack.env()
    user, password = env.pop("MLFLOW_TRACKING_USERNAME"), env.pop("MLFLOW_TRACKING_PASSWORD")
    host = urlsplit(live_stack.server.uri).netloc
    env["MLFLOW_TRACKING_URI"] = f"http://{user}:{password}@{host}"
    env["MLFLOW_LOGGING_LEVEL"] = "DEBUG"  # every line MLflow logs, through its own handler

    done = run_cli(["apply", "--yes"], env, tmp_path)

    assert done.returncode == 0, done.stderr
    assert password not in done.stdout + done.stderr
    assert "View run" not in done.stdout and "View experiment" not in done.stdout  # MLflow's own links
    assert f"Journal: http://{host}/#/experiments/" in done.stdout and "/runs/" in done.stdout, done.stdout
    assert f"Registry: http://{user}:***@{host}" in done.stdout


def test_a_wrong_password_in_the_uri_is_refused_without_showing_it(live_stack: Stack, tmp_path: Path):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "any.yaml").write_text("name: any\n")
    env = live_stack.env()
    user = env.pop("MLFLOW_TRACKING_USERNAME")
    env.pop("MLFLOW_TRACKING_PASSWORD")
    wrong = secrets.token_urlsafe(16)
    host = urlsplit(live_stack.server.uri).netloc
    for command in (["plan"], ["apply", "--yes"]):
        env["MLFLOW_TRACKING_URI"] = f"http://{user}:{wrong}@{host}"
        done = run_cli(command, env, tmp_path)
        assert done.returncode == 1 and "refused the credentials (HTTP 401)" in done.stderr, done.stderr
        assert wrong not in done.stdout + done.stderr and f"http://{user}:***@{host}" in done.stderr
