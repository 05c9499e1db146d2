"""A real registry for the serving tests: PostgreSQL, an S3 server and `mlflow server` with basic
auth, a scikit-learn model trained here and registered twice, and a non-admin (read-only) user."""

from __future__ import annotations

import base64
import contextlib
import importlib.metadata
import json
import os
import secrets
import textwrap
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from infra.k8s.server_settings import service_hosts
from tests.infra.harness import Run, run_stack
from tests.support.mlflow_uris import mlflow_at
from tests.support.services import mlflow_server, postgres, s3_server

DIGEST = "sha256:" + "5e" * 32
IMAGE = f"ghcr.io/acme/mlflow-registry-serving@{DIGEST}"
MODEL = "iris"


@dataclass(frozen=True)
class Registry:
    uri: str
    admin: tuple[str, str]
    reader: tuple[str, str]

    def reader_env(self) -> dict[str, str]:
        return {
            "MLFLOW_TRACKING_URI": self.uri,
            "MLFLOW_TRACKING_USERNAME": self.reader[0],
            "MLFLOW_TRACKING_PASSWORD": self.reader[1],
        }


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _create_user(uri: str, admin: tuple[str, str], user: tuple[str, str]) -> None:
    token = base64.b64encode(f"{admin[0]}:{admin[1]}".encode()).decode()
    request = urllib.request.Request(
        uri + "/api/2.0/mlflow/users/create",
        data=json.dumps({"username": user[0], "password": user[1]}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Basic {token}"},
    )
    assert urllib.request.urlopen(request, timeout=30).status == 200


def _train_and_register(registry: Registry) -> None:
    import mlflow
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    x, y = load_iris(return_X_y=True, as_frame=True)
    admin = {"MLFLOW_TRACKING_USERNAME": registry.admin[0], "MLFLOW_TRACKING_PASSWORD": registry.admin[1]}
    with environment(admin), mlflow_at(registry.uri):
        for c in (0.05, 10.0):  # version 1, version 2
            model = LogisticRegression(C=c, max_iter=500).fit(x, y)
            with mlflow.start_run():
                mlflow.sklearn.log_model(model, name="model", registered_model_name=MODEL, input_example=x.head(3))


@pytest.fixture(scope="session")
def registry(tmp_path_factory) -> Iterator[Registry]:
    work = tmp_path_factory.mktemp("serving-registry")
    # The host names the deployed server allows (infra/k8s/server_settings.py): the Service's.
    with (
        postgres() as pg,
        s3_server(work) as s3,
        mlflow_server(work, pg, s3, extra_hosts=service_hosts("mlflow")) as server,
    ):
        reader = ("serving-reader", secrets.token_urlsafe(18))
        registry = Registry(server.uri, ("admin", server.admin_password), reader)
        _create_user(server.uri, registry.admin, reader)
        _train_and_register(registry)
        yield registry


@pytest.fixture(scope="session")
def image_packages(tmp_path_factory) -> Path:
    """The package list of the image the sandbox runs: this virtualenv (it stands in for the image)."""
    path = tmp_path_factory.mktemp("image") / "packages.txt"
    dists = {d.metadata["Name"]: d.version for d in importlib.metadata.distributions()}
    path.write_text("".join(f"{n}=={v}\n" for n, v in sorted(dists.items())))
    return path


def model_file(models: Path, champion: int, serving: str = "serving: {alias: champion}") -> Path:
    models.mkdir(parents=True, exist_ok=True)
    path = models / f"{MODEL}.yaml"
    text = f"""\
        name: {MODEL}
        aliases:
          champion: {champion}
        versions:
          1: {{description: C=0.05}}
          2: {{description: C=10}}
        """
    path.write_text(textwrap.dedent(text) + serving + "\n")
    return path


def serving_stack(
    registry: Registry, models: Path, packages: Path, stack_name: str = "prod", expect_failure: bool = False, **extra
) -> Run:
    config = {
        "servingModelsDir": str(models),
        "servingImage": IMAGE,
        "servingImagePackages": str(packages),
        "servingTrackingUri": registry.uri,
        **extra,
    }
    with environment({k: v for k, v in registry.reader_env().items() if k != "MLFLOW_TRACKING_URI"}):
        return run_stack(stack_name, extra=config, expect_failure=expect_failure)
