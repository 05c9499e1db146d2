"""MinIO on Docker, from the image infra/minio/Dockerfile builds (MinIO publishes none any more),
and a one-shot container that creates the bucket and a bucket-scoped user for MLflow."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_docker as docker

from infra import secrets
from infra.local.common import RESTART, built, envs, health, one_shot, succeeded
from infra.minio_setup import ARTIFACTS, BUCKET_SCRIPT, MINIO_ROOT_PASSWORD, MINIO_ROOT_USER

MINIO_DIR = Path(__file__).resolve().parents[1] / "minio"
BUCKET_CONTAINER = "mlflow-minio-bucket"


class ObjectStore(pulumi.ComponentResource):
    """`endpoint`, `access_key`, `secret_key`: what MLflow uses; `ready`: resolves once the bucket exists."""

    def __init__(
        self,
        name: str,
        network: docker.Network,
        bucket: str,
        image: str,
        opts: pulumi.ResourceOptions | None = None,
        protect: bool = True,
    ):
        super().__init__("mlflow-registry:docker:ObjectStore", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        root_password = secrets.generated(f"{name}-root-password", self)
        self.access_key = pulumi.Output.from_input("mlflow")
        self.secret_key = secrets.generated(f"{name}-mlflow-secret-key", self)
        self.volume = docker.Volume(
            f"{name}-data", name="mlflow-minio-data", opts=pulumi.ResourceOptions(parent=self, protect=protect)
        )
        self.image = docker.Image(
            f"{name}-image",
            image_name=image,
            skip_push=True,
            build={"context": str(MINIO_DIR), "dockerfile": str(MINIO_DIR / "Dockerfile")},
            opts=child,
        )
        root = {MINIO_ROOT_USER: "minio-admin", MINIO_ROOT_PASSWORD: root_password}
        self.container = docker.Container(
            f"{name}-container",
            name="mlflow-minio",
            image=built(self.image),
            restart=RESTART,
            command=["server", "/data", "--address", ":9000"],
            envs=envs(root),
            networks_advanced=[{"name": network.name, "aliases": ["minio"]}],
            volumes=[{"volume_name": self.volume.name, "container_path": "/data"}],
            healthcheck=health("mc", "ready", "local"),
            wait=True,
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
        )
        self.bucket_setup = one_shot(
            f"{name}-bucket",
            BUCKET_CONTAINER,
            pulumi.ResourceOptions(parent=self, depends_on=[self.container], delete_before_replace=True),
            image=built(self.image),
            entrypoints=["sh", "-c"],
            command=[BUCKET_SCRIPT],
            networks_advanced=[{"name": network.name}],
            envs=envs(
                {
                    **root,
                    ARTIFACTS.bucket: bucket,
                    ARTIFACTS.access_key: self.access_key,
                    ARTIFACTS.secret_key: self.secret_key,
                }
            ),
        )
        self.ready = succeeded(self.bucket_setup, BUCKET_CONTAINER, "creating the bucket and the MLflow MinIO user")
        self.endpoint = "http://minio:9000"
        self.register_outputs({})
