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

from tests.support.services import ServerProcess, free_port


@dataclass(frozen=True)
class Registry:
    uri: str
    workdir: Path


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    workdir = tmp_path_factory.mktemp("health-registry")
    port = free_port()
    uri = f"http://127.0.0.1:{port}"
    args = [
        str(Path(sys.executable).parent / "mlflow"), "server", "--host", "127.0.0.1", "--port", str(port),
        "--backend-store-uri", f"sqlite:///{workdir / 'mlflow.db'}",
        "--artifacts-destination", str(workdir / "artifacts"), "--workers", "1",
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    server = ServerProcess(args, env, workdir, uri)
    server.start()
    old = {k: os.environ.get(k) for k in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
    os.environ["MLFLOW_TRACKING_URI"] = uri
    os.environ.pop("MLFLOW_REGISTRY_URI", None)
    try:
        yield Registry(uri, workdir)
    finally:
        for k, v in old.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
        server.stop()


@pytest.fixture
def step(fake_github: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> Any:
    from tests.github.inproc import Step

    return Step(fake_github, tmp_path / "steps", monkeypatch, capsys)
