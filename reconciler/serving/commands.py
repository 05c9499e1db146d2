"""The two commands that serve a pinned version, as argv: fetch its artifacts, then serve the copy.

One definition for every place that runs them: the Kubernetes init and main containers, the Docker
containers, and `start_scoring_server` (reconciler/serving/local.py). The scoring server serves a
local directory, so it never asks the registry which version an alias means.
"""

from __future__ import annotations

from dataclasses import dataclass

SCORING_PORT = 8080
MODEL_DIR = "/models"  # the emptyDir the init container fills and the server reads
# What the fetch needs from the environment; the credentials are a read-only MLflow user's.
TRACKING_ENV = ("MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD")
# Through the tracking server, never straight from the bucket: a server that offers multipart
# downloads (its /server-info) otherwise sends the client presigned bucket URLs
# (mlflow/store/artifact/mlflow_artifacts_repo.py _download_file), which the scoring pods' egress
# policy does not allow and whose credentials they do not hold. Measured: without it, the sandboxed
# init container hangs on the bucket's address (tests/serving/test_serving_containers.py).
FETCH_ENV = {"MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD": "false"}


@dataclass(frozen=True)
class Pinned:
    model: str
    version: int

    @property
    def uri(self) -> str:
        return f"models:/{self.model}/{self.version}"


def download_command(pinned: Pinned, destination: str = MODEL_DIR) -> list[str]:
    """`mlflow artifacts download` of the pinned version (through the tracking server's artifact
    proxy: the credentials never need the bucket's)."""
    return ["mlflow", "artifacts", "download", "--artifact-uri", pinned.uri, "--dst-path", destination]


def serve_command(model_dir: str = MODEL_DIR, port: int = SCORING_PORT, host: str = "0.0.0.0") -> list[str]:
    """MLflow's scoring server (/invocations, /ping, /health, /version) on the downloaded copy, in
    the image's own environment (its packages were checked against the version's requirements)."""
    return [
        "mlflow",
        "models",
        "serve",
        "--model-uri",
        model_dir,
        "--env-manager",
        "local",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        "1",
    ]
