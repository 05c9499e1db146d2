from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import secrets_scan
from tests.support.services import MlflowServer, stack

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Stack:
    server: MlflowServer
    reconciler_password: str
    trainer_password: str
    reader_password: str

    def env(self, user: str = "reconciler", password: str | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
        env.update(
            MLFLOW_TRACKING_URI=self.server.uri,
            MLFLOW_TRACKING_USERNAME=user,
            MLFLOW_TRACKING_PASSWORD=password or getattr(self, f"{user}_password"),
        )
        env.update({k: v for k, v in self.server.env.items() if k.startswith(("AWS_", "MLFLOW_S3"))})
        return env


@pytest.fixture(scope="session")
def live_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("stack")
    with stack(workdir) as server:
        from mlflow.server import get_app_client

        os.environ["MLFLOW_TRACKING_USERNAME"] = "admin"
        os.environ["MLFLOW_TRACKING_PASSWORD"] = server.admin_password
        try:
            auth = get_app_client("basic-auth", tracking_uri=server.uri)
            passwords = {}
            for user in ("reconciler", "trainer", "reader"):
                passwords[user] = os.urandom(12).hex()
                secrets_scan.register(passwords[user])
                auth.create_user(user, passwords[user])
        finally:
            del os.environ["MLFLOW_TRACKING_USERNAME"], os.environ["MLFLOW_TRACKING_PASSWORD"]
        stack_ = Stack(server, passwords["reconciler"], passwords["trainer"], passwords["reader"])
        _bootstrap(stack_)
        yield stack_


BOOTSTRAP = """
from mlflow import MlflowClient
c = MlflowClient()
c.create_registered_model("gitops.lock")
c.create_experiment("gitops.audit")
"""


def _bootstrap(s: Stack) -> None:
    """What the service user's first apply does: it creates the registry lock and the audit journal,
    and owns them. Done first here, because other tests reach the registry through its database URI
    (no owner recorded) or as users who must not own them."""
    done = subprocess.run(
        [sys.executable, "-c", BOOTSTRAP],
        env=s.env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]


def grant(live_stack: Stack, model: str, user: str = "reconciler", permission: str = "MANAGE") -> None:
    """The admin grants a user a permission on a registered model (as a platform team would)."""
    from mlflow.server import get_app_client

    env = {"MLFLOW_TRACKING_USERNAME": "admin", "MLFLOW_TRACKING_PASSWORD": live_stack.server.admin_password}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        get_app_client("basic-auth", tracking_uri=live_stack.server.uri).grant_user_permission(
            user, "registered_model", model, permission
        )
    finally:
        for k, v in old.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300
    )


def run_training(live_stack: Stack, code: str, cwd: Path) -> str:
    """Training code, as the trainer user, in its own process (as a training job would run)."""
    env = live_stack.env("trainer")
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout
