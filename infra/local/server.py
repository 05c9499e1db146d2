"""The MLflow server on Docker: the image built from infra/Dockerfile, a one-shot migration
container, and the server started with infra.server_command (the tested flags)."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_docker as docker

from infra import secrets
from infra.config import StackConfig
from infra.local.common import RESTART, built, envs, health, one_shot, succeeded
from infra.local.database import Postgres
from infra.local.object_store import ObjectStore
from infra.server_command import (
    AUTH_BOOTSTRAP_PATH,
    AUTH_CONFIG_PATH,
    METRICS_DIR,
    SecretRef,
    ServerSettings,
    migrate_command,
    migrate_env,
    server_command,
)

INFRA_DIR = Path(__file__).resolve().parents[1]
MIGRATE_CONTAINER = "mlflow-db-migrate"
AUTH_DIR = str(Path(AUTH_CONFIG_PATH).parent)
AUTH_DB = SecretRef("mlflow-auth", "database-uri")
SERVING_USERNAME = "serving-reader"


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
        # The scoring servers' non-admin account (basic_auth.ini's default_permission READ).
        self.serving_password = secrets.generated(f"{name}-serving-password", self)
        s = self.settings
        values: dict[SecretRef, pulumi.Input[str]] = {
            s.backend_store_uri: db.uri,
            AUTH_DB: db.auth_uri,
            s.admin_password: self.admin_password,
            s.flask_secret_key: secrets.generated(f"{name}-flask-secret-key", self, 48),
        }
        if s.s3_access_key and s.s3_secret_key:
            values.update({s.s3_access_key: store.access_key, s.s3_secret_key: store.secret_key})
        self.image = docker.Image(
            f"{name}-image",
            image_name=c.mlflow_image,
            skip_push=True,
            build={"context": str(INFRA_DIR), "dockerfile": str(INFRA_DIR / "Dockerfile")},
            opts=pulumi.ResourceOptions(parent=self),
        )
        # Artifacts are staged in /tmp while proxied: a volume on the host's disk (a tmpfs would
        # hold them in memory and cap them at its size).
        self.tmp_volume = docker.Volume(
            f"{name}-tmp", name="mlflow-server-tmp", opts=pulumi.ResourceOptions(parent=self)
        )
        # basic_auth.ini (it holds the auth database's password): written by the migration
        # container into this volume, mode 0600 as the server's user; the server mounts it read-only.
        # Not an upload: the provider copies uploads to `/`, which a read-only root refuses.
        self.auth_volume = docker.Volume(
            f"{name}-auth-config", name="mlflow-server-auth-config", opts=pulumi.ResourceOptions(parent=self)
        )
        self.migration = self._migration(name, network, db, values)
        self.migrated = succeeded(self.migration, MIGRATE_CONTAINER, "the database migrations (mlflow db upgrade)")
        self.container = self._server(name, c, network, values, [db.ready, store.ready, self.migrated])
        self.register_outputs({})

    def _common(self, network: docker.Network, auth_read_only: bool, aliases: list[str] | None = None) -> dict:
        return {
            "image": built(self.image),
            "networks_advanced": [{"name": network.name, "aliases": aliases or []}],
            "user": "10001:10001",
            "read_only": True,
            "volumes": [
                {"volume_name": self.tmp_volume.name, "container_path": "/tmp"},
                {"volume_name": self.auth_volume.name, "container_path": AUTH_DIR, "read_only": auth_read_only},
            ],
        }

    def _migration(self, name: str, network: docker.Network, db: Postgres, values: dict) -> docker.Container:
        env: dict = {
            **migrate_env(self.settings, AUTH_DB, write_auth_config=True),
            "MLFLOW_SERVING_USERNAME": SERVING_USERNAME,
            "MLFLOW_SERVING_PASSWORD": self.serving_password,
        }
        return one_shot(
            f"{name}-migrate",
            MIGRATE_CONTAINER,
            pulumi.ResourceOptions(parent=self, delete_before_replace=True),
            command=list(migrate_command(AUTH_BOOTSTRAP_PATH)),
            envs=envs({k: (values[v] if isinstance(v, SecretRef) else v) for k, v in env.items()}),
            labels=[{"label": "mlflow-registry/database-ready", "value": db.ready}],
            **self._common(network, auth_read_only=False),
        )

    def _server(
        self, name: str, c: StackConfig, network: docker.Network, values: dict, gates: list
    ) -> docker.Container:
        env = {k: (values[v] if isinstance(v, SecretRef) else v) for k, v in self.command.env.items()}
        common = self._common(network, auth_read_only=True, aliases=["mlflow"])
        gate = pulumi.Output.all(*gates).apply(lambda done: ",".join(done))
        return docker.Container(
            f"{name}-container",
            name="mlflow-server",
            command=list(self.command.args),
            envs=envs(env),
            restart=RESTART,
            ports=[{"internal": 5000, "external": c.mlflow_port, "ip": c.bind_address}],
            labels=[{"label": "mlflow-registry/prerequisites", "value": gate}],
            healthcheck={
                **health("python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:5000/health')"),
                "start_period": "60s",
            },
            wait=True,
            wait_timeout=180,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.migration], delete_before_replace=True),
            **common,
        )
