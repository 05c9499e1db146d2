"""The Docker target: a private network, named volumes, PostgreSQL, MinIO (built from pinned
source) and the MLflow server image built from infra/Dockerfile, started with infra.server_command
(the tested flags). Every one-shot container's exit code gates what depends on it."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from infra.config import StackConfig
from infra.local.database import Postgres
from infra.local.object_store import ObjectStore
from infra.local.server import MlflowServer
from infra.local.serving import build_served
from infra.serving import served_workloads


@dataclass
class DockerStack:
    network: docker.Network
    postgres: Postgres
    object_store: ObjectStore
    server: MlflowServer
    outputs: dict[str, pulumi.Input]


def build(c: StackConfig) -> DockerStack:
    served = served_workloads(c.serving, pinned=False)  # checked before any resource exists
    network = docker.Network("network", name="mlflow-registry", driver="bridge")
    postgres = Postgres("postgres", network, protect=c.protect)
    store = ObjectStore("minio", network, c.bucket, c.minio_image, protect=c.protect)
    server = MlflowServer("mlflow", c, network, postgres, store)
    host = "localhost" if c.bind_address in ("127.0.0.1", "0.0.0.0") else c.bind_address
    outputs = {
        "target": "docker",
        "tracking_uri": f"http://{host}:{c.mlflow_port}",
        "admin_username": "admin",
        "admin_password": server.admin_password,
        "served_versions": {w.served.model: w.served.version for w in served},
        "scoring_urls": build_served(served, c.serving.image, network, server, c.serving.port, c.bind_address),
    }
    return DockerStack(network, postgres, store, server, outputs)
