from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.apply.lock import LOCK_MODEL
from tests.support import lock_scenarios as scenarios


@pytest.fixture(scope="session")
def empty_registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite registry with MLflow's tables (creating them takes seconds: once)."""
    from mlflow import MlflowClient

    db = tmp_path_factory.mktemp("lock-template") / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{db}", registry_uri=f"sqlite:///{db}").search_registered_models()
    return db


@pytest.fixture
def registry(empty_registry: Path, tmp_path: Path) -> Iterator[scenarios.Registry]:
    """A fresh local SQLite registry file, without the lock model."""
    from mlflow import MlflowClient

    db = tmp_path / "mlflow.db"
    shutil.copy(empty_registry, db)
    uri = f"sqlite:///{db}"
    reg = scenarios.Registry(uri, {}, MlflowClient(tracking_uri=uri, registry_uri=uri), LOCK_MODEL, {"db": db})
    yield reg
    reg.close()
