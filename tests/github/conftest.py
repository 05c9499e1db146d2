"""Fixtures for the GitHub commands' tests: a local SQLite registry with training runs, and a step
runner for `reconciler github …` in a checkout of the fake's repository."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.github.fake import FakeGitHub
from tests.github.inproc import Step


@dataclass
class Registry:
    uri: str
    client: Any  # mlflow.MlflowClient
    experiment: str

    def model(self, name: str, accuracies: Iterable[float | None]) -> None:
        """A registered model with one version per accuracy (None: a run without the metric)."""
        self.client.create_registered_model(name)
        for accuracy in accuracies:
            run = self.client.create_run(self.experiment)
            if accuracy is not None:
                self.client.log_metric(run.info.run_id, "accuracy", accuracy)
            self.client.set_terminated(run.info.run_id)
            self.client.create_model_version(name, f"s3://artifacts/{run.info.run_id}", run_id=run.info.run_id)


@pytest.fixture(scope="session")
def _empty_registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty SQLite registry, made once (MLflow's migrations take seconds)."""
    from mlflow import MlflowClient

    path = tmp_path_factory.mktemp("registry-template") / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{path}", registry_uri=f"sqlite:///{path}").search_experiments()
    return path


@pytest.fixture
def registry(tmp_path: Path, _empty_registry: Path) -> Registry:
    from mlflow import MlflowClient

    path = tmp_path / "mlflow.db"
    shutil.copyfile(_empty_registry, path)
    uri = f"sqlite:///{path}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    return Registry(uri, client, client.create_experiment("training"))


@pytest.fixture
def step(fake_github: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> Step:
    return Step(fake_github, tmp_path / "steps", monkeypatch, capsys)
