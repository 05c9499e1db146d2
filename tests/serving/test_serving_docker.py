"""The Docker target's serving (infra/local/serving.py) under Pulumi's mocks, against a real registry:
per served model a download container and a scoring server on loopback, pinned to the file's
version. (The same two commands run in the sandbox against a real server in
test_serving_containers.py, as the Kubernetes pod's containers.)"""

from __future__ import annotations

import pytest

from reconciler.serving.commands import serve_command
from tests.serving.conftest import model_file, serving_stack

pytestmark = [pytest.mark.infra, pytest.mark.integration]


def local(registry, packages, tmp_path, champion: int):
    model_file(tmp_path / f"c{champion}" / "models", champion)
    return serving_stack(registry, tmp_path / f"c{champion}" / "models", packages, stack_name="local")


def test_the_pinned_version_is_fetched_then_served_on_loopback(registry, image_packages, tmp_path):
    run = local(registry, image_packages, tmp_path, 1)
    containers = run.containers()
    fetch, scoring = containers["serve-iris-fetch"], containers["serve-iris"]
    assert "models:/iris/1" in fetch["command"] and scoring["command"] == serve_command()
    assert scoring["ports"] == [{"internal": 8080, "external": 5100, "ip": "127.0.0.1"}]
    assert fetch["readOnly"] and scoring["readOnly"] and scoring["user"] == "10001:10001"
    (model,) = [v for v in scoring["volumes"] if v["containerPath"] == "/models"]
    assert model["readOnly"] and model["volumeName"] == "serve-iris-v1-model"
    assert run.outputs["scoring_urls"] == {"iris": "http://localhost:5100"}
    assert not [e for e in scoring["envs"] if e.startswith("MLFLOW_")]
    moved = local(registry, image_packages, tmp_path, 2).containers()
    assert "models:/iris/2" in moved["serve-iris-fetch"]["command"]  # a new command: the container is replaced
    assert next(v["volumeName"] for v in moved["serve-iris"]["volumes"]) == "serve-iris-v2-model"
