"""PostgreSQL on Docker: a named data volume, and the password applied on every `pulumi up`."""

from __future__ import annotations

import pulumi
import pulumi_docker as docker

from infra import images, secrets
from infra.local.common import RESTART, envs, health, one_shot, succeeded
from infra.postgres_password import SOCKET_DIR, set_password_command
from infra.server_command import database_uri

INIT_SQL = "CREATE DATABASE mlflow_auth;\n"
ROLE_SETUP_CONTAINER = "mlflow-postgres-password"


class Postgres(pulumi.ComponentResource):
    """`uri`, `auth_uri`: secret outputs; `ready`: resolves once the password is applied."""

    def __init__(
        self, name: str, network: docker.Network, opts: pulumi.ResourceOptions | None = None, protect: bool = True
    ):
        super().__init__("mlflow-registry:docker:Postgres", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.password = secrets.generated(f"{name}-password", self)
        self.volume = docker.Volume(
            f"{name}-data", name="mlflow-postgres-data", opts=pulumi.ResourceOptions(parent=self, protect=protect)
        )
        # The server's Unix socket, shared with the one-shot container that sets the password.
        self.socket_volume = docker.Volume(f"{name}-socket", name="mlflow-postgres-socket", opts=child)
        self.image = docker.RemoteImage(f"{name}-image", name=images.POSTGRES, keep_locally=True, opts=child)
        socket = {"volume_name": self.socket_volume.name, "container_path": SOCKET_DIR}
        self.container = docker.Container(
            f"{name}-container",
            name="mlflow-postgres",
            image=self.image.image_id,
            restart=RESTART,
            networks_advanced=[{"name": network.name, "aliases": ["postgres"]}],
            # POSTGRES_PASSWORD is read only by initdb, on an empty volume; see set_password below.
            envs=envs({"POSTGRES_USER": "mlflow", "POSTGRES_DB": "mlflow", "POSTGRES_PASSWORD": self.password}),
            volumes=[{"volume_name": self.volume.name, "container_path": "/var/lib/postgresql/data"}, socket],
            uploads=[{"file": "/docker-entrypoint-initdb.d/10-mlflow-auth.sql", "content": INIT_SQL}],
            # Over TCP: while the image initialises a new volume, a temporary server answers on the
            # socket only, and a socket check would report ready before clients can connect.
            healthcheck=health("pg_isready", "-h", "127.0.0.1", "-U", "mlflow", "-d", "mlflow"),
            wait=True,
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
        )
        self.set_password = one_shot(
            f"{name}-set-password",
            ROLE_SETUP_CONTAINER,
            pulumi.ResourceOptions(parent=self, depends_on=[self.container], delete_before_replace=True),
            image=self.image.image_id,
            user="999:999",
            command=list(set_password_command()),
            envs=envs({"POSTGRES_PASSWORD": self.password}),
            volumes=[socket],
            network_mode="none",
        )
        self.ready = succeeded(self.set_password, ROLE_SETUP_CONTAINER, "setting the PostgreSQL password")
        self.uri = _uri(self.password, "mlflow")
        self.auth_uri = _uri(self.password, "mlflow_auth")
        self.register_outputs({})


def _uri(password: pulumi.Output[str], database: str) -> pulumi.Output[str]:
    return pulumi.Output.secret(password.apply(lambda pw: database_uri("mlflow", pw, "postgres:5432", database)))
