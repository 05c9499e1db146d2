"""Per served model on Docker: a one-shot container downloads the pinned version into a volume
named after it, then MLflow's scoring server serves that volume on loopback (infra/serving.py
picks and checks the versions; reconciler/serving/commands.py is the one definition of both commands)."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_docker as docker

from infra.k8s.serving import workload_name
from infra.local.common import RESTART, built, envs, health, one_shot, succeeded
from infra.local.server import SERVING_USERNAME, MlflowServer
from infra.server_command import MLFLOW_VERSION
from infra.serving import Workload
from reconciler.serving.commands import FETCH_ENV, MODEL_DIR, SCORING_PORT, Pinned, download_command, serve_command

IMAGE_DIR = Path(__file__).resolve().parents[1] / "serving-image"
LOCAL_IMAGE = f"mlflow-registry-serving:{MLFLOW_VERSION}"


def serving_image(configured: str) -> docker.Image:
    """The default runtime image, built here from infra/serving-image (its package list is checked)."""
    return docker.Image(
        "serving-image",
        image_name=configured or LOCAL_IMAGE,
        skip_push=True,
        build={"context": str(IMAGE_DIR), "dockerfile": str(IMAGE_DIR / "Dockerfile")},
    )


class ServedModel(pulumi.ComponentResource):
    def __init__(
        self,
        w: Workload,
        image: pulumi.Input[str],
        network: docker.Network,
        server: MlflowServer,
        port: int,
        bind_address: str,
        opts: pulumi.ResourceOptions | None = None,
    ):
        name = workload_name(w.served.model)
        super().__init__("mlflow-registry:docker:ServedModel", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        version = w.served.version
        # A volume per pinned version: a new pin downloads into a new volume, never over the served one.
        self.model_volume = docker.Volume(f"{name}-model", name=f"{name}-v{version}-model", opts=child)
        self.tmp_volume = docker.Volume(f"{name}-tmp", name=f"{name}-tmp", opts=child)
        common = {
            "image": image,
            "networks_advanced": [{"name": network.name}],
            "user": "10001:10001",
            "read_only": True,
        }
        fetch_name = f"{name}-fetch"
        self.fetch = one_shot(
            fetch_name,
            fetch_name,
            pulumi.ResourceOptions(parent=self, depends_on=[server.container], delete_before_replace=True),
            command=download_command(Pinned(w.served.model, version)),
            envs=envs(
                {
                    "HOME": "/tmp",
                    **FETCH_ENV,
                    "MLFLOW_TRACKING_URI": "http://mlflow:5000",
                    "MLFLOW_TRACKING_USERNAME": SERVING_USERNAME,
                    "MLFLOW_TRACKING_PASSWORD": server.serving_password,
                }
            ),
            volumes=[
                {"volume_name": self.model_volume.name, "container_path": MODEL_DIR},
                {"volume_name": self.tmp_volume.name, "container_path": "/tmp"},
            ],
            **common,
        )
        fetched = succeeded(self.fetch, fetch_name, f"the download of {w.served.model_uri}")
        ping = f"import urllib.request as u; u.urlopen('http://127.0.0.1:{SCORING_PORT}/ping')"
        self.container = docker.Container(
            f"{name}-container",
            name=name,
            command=serve_command(),
            envs=envs({"HOME": "/tmp"}),
            restart=RESTART,
            ports=[{"internal": SCORING_PORT, "external": port, "ip": bind_address}],
            labels=[
                {"label": "mlflow-registry/model-uri", "value": w.served.model_uri},
                {"label": "mlflow-registry/fetched", "value": fetched},
            ],
            volumes=[
                {"volume_name": self.model_volume.name, "container_path": MODEL_DIR, "read_only": True},
                {"volume_name": self.tmp_volume.name, "container_path": "/tmp"},
            ],
            healthcheck=health("python", "-c", ping),
            wait=True,
            wait_timeout=180,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.fetch], delete_before_replace=True),
            **common,
        )
        self.register_outputs({})


def build_served(
    workloads: list[Workload], c_image: str, network: docker.Network, server: MlflowServer, base_port: int, bind: str
) -> dict[str, str]:
    """Every served model, on `base_port`, `base_port + 1`, ... in model-name order; returns their URLs."""
    default = built(serving_image(c_image)) if any(not w.served.image for w in workloads) else None
    host = "localhost" if bind in ("127.0.0.1", "0.0.0.0") else bind
    urls = {}
    for offset, w in enumerate(workloads):
        image = w.image if w.served.image else default
        assert image is not None
        ServedModel(w, image, network, server, base_port + offset, bind)
        urls[w.served.model] = f"http://{host}:{base_port + offset}"
    return urls
