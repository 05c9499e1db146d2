"""The Docker target: a private network, named volumes, PostgreSQL, MinIO and the MLflow server image
built from infra/Dockerfile, started with infra.server_command (the tested flags)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_docker as docker

from infra import secrets
from infra.config import IMAGES, StackConfig
from infra.minio_setup import BUCKET_SCRIPT
from infra.server_command import (
    AUTH_CONFIG_PATH,
    METRICS_DIR,
    SecretRef,
    ServerSettings,
    auth_config_ini,
    migrate_command,
    server_command,
)

INFRA_DIR = Path(__file__).resolve().parents[1]
RESTART = "unless-stopped"


def _envs(values: dict[str, pulumi.Input[str]]) -> list[pulumi.Output[str]]:
    return [pulumi.Output.concat(k, "=", v) for k, v in sorted(values.items())]


def _health(*test: str) -> dict:
    return {"tests": ["CMD", *test], "interval": "10s", "timeout": "5s", "retries": 6, "start_period": "20s"}


class Postgres(pulumi.ComponentResource):
    def __init__(self, name: str, network: docker.Network, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlflow-registry:docker:Postgres", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.password = secrets.generated(f"{name}-password", self)
        self.volume = docker.Volume(f"{name}-data", name="mlflow-postgres-data", opts=child)
        self.image = docker.RemoteImage(f"{name}-image", name=IMAGES["postgres"], keep_locally=True, opts=child)
        self.container = docker.Container(
            f"{name}-container",
            name="mlflow-postgres",
            image=self.image.image_id,
            restart=RESTART,
            networks_advanced=[{"name": network.name, "aliases": ["postgres"]}],
            envs=_envs({"POSTGRES_USER": "mlflow", "POSTGRES_DB": "mlflow", "POSTGRES_PASSWORD": self.password}),
            volumes=[{"volume_name": self.volume.name, "container_path": "/var/lib/postgresql/data"}],
            uploads=[
                {"file": "/docker-entrypoint-initdb.d/10-mlflow-auth.sql", "content": "CREATE DATABASE mlflow_auth;\n"}
            ],
            healthcheck=_health("pg_isready", "-U", "mlflow", "-d", "mlflow"),
            wait=True,
            opts=child,
        )
        self.uri = pulumi.Output.secret(
            pulumi.Output.concat("postgresql://mlflow:", self.password, "@postgres:5432/mlflow")
        )
        self.auth_uri = pulumi.Output.secret(
            pulumi.Output.concat("postgresql://mlflow:", self.password, "@postgres:5432/mlflow_auth")
        )
        self.register_outputs({})


class ObjectStore(pulumi.ComponentResource):
    def __init__(self, name: str, network: docker.Network, bucket: str, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlflow-registry:docker:ObjectStore", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        root_password = secrets.generated(f"{name}-root-password", self)
        self.access_key = pulumi.Output.from_input("mlflow")
        self.secret_key = secrets.generated(f"{name}-mlflow-secret-key", self)
        self.volume = docker.Volume(f"{name}-data", name="mlflow-minio-data", opts=child)
        self.image = docker.RemoteImage(f"{name}-image", name=IMAGES["minio"], keep_locally=True, opts=child)
        self.mc_image = docker.RemoteImage(f"{name}-mc-image", name=IMAGES["mc"], keep_locally=True, opts=child)
        root = {"MINIO_ROOT_USER": "minio-admin", "MINIO_ROOT_PASSWORD": root_password}
        self.container = docker.Container(
            f"{name}-container",
            name="mlflow-minio",
            image=self.image.image_id,
            restart=RESTART,
            command=["server", "/data", "--address", ":9000"],
            envs=_envs(root),
            networks_advanced=[{"name": network.name, "aliases": ["minio"]}],
            volumes=[{"volume_name": self.volume.name, "container_path": "/data"}],
            healthcheck=_health("mc", "ready", "local"),
            wait=True,
            opts=child,
        )
        self.bucket_setup = docker.Container(
            f"{name}-bucket",
            name="mlflow-minio-bucket",
            image=self.mc_image.image_id,
            entrypoints=["sh", "-c"],
            command=[BUCKET_SCRIPT],
            must_run=False,
            restart="no",
            attach=True,
            logs=True,
            networks_advanced=[{"name": network.name}],
            envs=_envs(
                {**root, "MLFLOW_ACCESS_KEY": self.access_key, "MLFLOW_SECRET_KEY": self.secret_key, "BUCKET": bucket}
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.container]),
        )
        self.endpoint = "http://minio:9000"
        self.register_outputs({})


class MlflowServer(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        c: StackConfig,
        network: docker.Network,
        db: Postgres,
        store: ObjectStore,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("mlflow-registry:docker:MlflowServer", name, None, opts)
        self.settings = ServerSettings(
            artifacts_destination=f"s3://{c.bucket}/artifacts",
            port=5000,
            allowed_hosts=(f"localhost:{c.mlflow_port}", f"127.0.0.1:{c.mlflow_port}", "mlflow:5000"),
            s3_endpoint_url=store.endpoint,
            auth_config_path=AUTH_CONFIG_PATH,
            metrics_dir=METRICS_DIR,
        )
        self.command = server_command(self.settings)
        self.admin_password = secrets.generated(f"{name}-admin-password", self)
        values: dict[SecretRef, pulumi.Input[str]] = {
            self.settings.backend_store_uri: db.uri,
            self.settings.s3_access_key: store.access_key,
            self.settings.s3_secret_key: store.secret_key,
            self.settings.admin_password: self.admin_password,
            self.settings.flask_secret_key: secrets.generated(f"{name}-flask-secret-key", self, 48),
        }
        env = {k: (values[v] if isinstance(v, SecretRef) else v) for k, v in self.command.env.items()}
        self.image = docker.Image(
            f"{name}-image",
            image_name=c.mlflow_image,
            skip_push=True,
            build={"context": str(INFRA_DIR), "dockerfile": str(INFRA_DIR / "Dockerfile")},
            opts=pulumi.ResourceOptions(parent=self),
        )
        common = {
            "image": self.image.image_name,
            "networks_advanced": [{"name": network.name, "aliases": ["mlflow"]}],
            "user": "10001:10001",
            "read_only": True,
            "tmpfs": {"/tmp": "rw,size=1g"},
        }
        self.migration = docker.Container(
            f"{name}-migrate",
            name="mlflow-db-migrate",
            command=list(migrate_command()),
            must_run=False,
            restart="no",
            attach=True,
            logs=True,
            envs=_envs({"MLFLOW_BACKEND_STORE_URI": db.uri}),
            **common,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[db.container]),
        )
        self.container = docker.Container(
            f"{name}-container",
            name="mlflow-server",
            command=list(self.command.args),
            envs=_envs(env),
            restart=RESTART,
            ports=[{"internal": 5000, "external": c.mlflow_port, "ip": c.bind_address}],
            uploads=[
                {"file": AUTH_CONFIG_PATH, "content": pulumi.Output.from_input(db.auth_uri).apply(auth_config_ini)}
            ],
            healthcheck={
                **_health("python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:5000/health')"),
                "start_period": "60s",
            },
            wait=True,
            wait_timeout=180,
            **common,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.migration, store.bucket_setup]),
        )
        self.register_outputs({})


@dataclass
class DockerStack:
    network: docker.Network
    postgres: Postgres
    object_store: ObjectStore
    server: MlflowServer
    outputs: dict[str, pulumi.Input]


def build(c: StackConfig) -> DockerStack:
    network = docker.Network("network", name="mlflow-registry", driver="bridge")
    postgres = Postgres("postgres", network)
    store = ObjectStore("minio", network, c.bucket)
    server = MlflowServer("mlflow", c, network, postgres, store)
    host = "localhost" if c.bind_address in ("127.0.0.1", "0.0.0.0") else c.bind_address
    outputs = {
        "target": "docker",
        "tracking_uri": f"http://{host}:{c.mlflow_port}",
        "admin_username": "admin",
        "admin_password": server.admin_password,
    }
    return DockerStack(network, postgres, store, server, outputs)
