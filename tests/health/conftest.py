"""A real `mlflow server` (SQLite store, artifacts served through its proxy) on a free loopback port,
and models trained here and registered with an input example and a signature."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.mlflow_uris import mlflow_at
from tests.support.services import ServerProcess, free_port


@dataclass(frozen=True)
class Registry:
    uri: str
    workdir: Path


@pytest.fixture(scope="session")
def registry_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    workdir = tmp_path_factory.mktemp("health-registry")
    port = free_port()
    uri = f"http://127.0.0.1:{port}"
    args = [
        str(Path(sys.executable).parent / "mlflow"), "server", "--host", "127.0.0.1", "--port", str(port),
        "--backend-store-uri", f"sqlite:///{workdir / 'mlflow.db'}",
        "--artifacts-destination", str(workdir / "artifacts"), "--workers", "1",
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"  # as deployed (infra/server_command.py): no job runner
    server = ServerProcess(args, env, workdir, uri)
    server.start()
    try:
        yield Registry(uri, workdir)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def registry(registry_server: Registry) -> Iterator[Registry]:
    """The server, with MLflow's in-process API (fluent calls, MlflowClient()) pointed at it for the
    module and set back afterwards: a worker runs other files before and after these."""
    with mlflow_at(registry_server.uri):
        yield registry_server


@pytest.fixture
def step(fake_github: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> Any:
    from tests.github.inproc import Step

    return Step(fake_github, tmp_path / "steps", monkeypatch, capsys)
