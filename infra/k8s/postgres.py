"""PostgreSQL as one StatefulSet pod with a volume: for small setups only (no standby, no backups).
Production uses CloudNativePG (infra/k8s/cnpg.py) or an external database."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from infra import images, secrets
from infra.k8s.common import (
    CHECKSUM_ANNOTATION,
    DB_CLIENT,
    checksum,
    container_security,
    ingress_only_from,
    labels,
    pods_labelled,
    resources,
    selector,
    single_pod_stateful_set,
    tmp_volume,
)
from infra.postgres_password import SOCKET_DIR, set_password_command
from infra.server_command import database_uri

NAME = "postgres"
PORT = 5432
UID = 999  # the postgres user of the Debian-based official image
INIT_SQL = "CREATE DATABASE mlflow_auth;\n"


class Postgres(pulumi.ComponentResource):
    """In-cluster PostgreSQL. `uri` and `auth_uri` are secret outputs for the MLflow server."""

    def __init__(
        self,
        name: str,
        namespace: str,
        storage: str,
        storage_class: str | None,
        opts: pulumi.ResourceOptions | None = None,
        max_connections: int = 200,
        protect: bool = True,
    ):
        super().__init__("mlflow-registry:k8s:Postgres", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        meta = {"namespace": namespace, "labels": labels(NAME)}
        self.password = secrets.generated(f"{name}-password", self)
        self.secret = k8s.core.v1.Secret(
            f"{name}-credentials",
            metadata={"name": "postgres-credentials", **meta},
            string_data={"password": self.password},
            opts=child,
        )
        self.init_scripts = k8s.core.v1.ConfigMap(
            f"{name}-init",
            metadata={"name": "postgres-init", **meta},
            data={"10-mlflow-auth.sql": INIT_SQL},
            opts=child,
        )
        self.service = k8s.core.v1.Service(
            f"{name}-service",
            metadata={"name": NAME, **meta},
            spec={"selector": selector(NAME), "ports": [{"name": "postgres", "port": PORT, "target_port": PORT}]},
            opts=child,
        )
        self.stateful_set = k8s.apps.v1.StatefulSet(
            f"{name}-statefulset",
            metadata={"name": NAME, **meta},
            spec=_spec(storage, storage_class, checksum(self.password), max_connections),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.secret, self.init_scripts], protect=protect),
        )
        self.network_policy = k8s.networking.v1.NetworkPolicy(
            f"{name}-ingress",
            metadata={"name": "postgres-from-mlflow", **meta},
            spec=ingress_only_from(NAME, PORT, pods_labelled(DB_CLIENT)),
            opts=child,
        )
        host = f"{NAME}.{namespace}.svc.cluster.local:{PORT}"
        self.uri = _uri(self.password, host, "mlflow")
        self.auth_uri = _uri(self.password, host, "mlflow_auth")
        self.register_outputs({"service": self.service.metadata.name})


def _uri(password: pulumi.Output[str], host: str, database: str) -> pulumi.Output[str]:
    return pulumi.Output.secret(password.apply(lambda pw: database_uri("mlflow", pw, host, database)))


def _spec(storage: str, storage_class: str | None, secrets_checksum: pulumi.Input[str], max_connections: int) -> dict:
    probe = {
        "exec": {"command": ["pg_isready", "-U", "mlflow", "-d", "mlflow", "-h", "127.0.0.1"]},
        "period_seconds": 10,
        "timeout_seconds": 5,
    }
    password = {"secret_key_ref": {"name": "postgres-credentials", "key": "password"}}
    container = {
        "name": "postgres",
        "image": images.POSTGRES,
        # The image's entrypoint passes options to postgres (docker-entrypoint.sh: "$1" starts with -).
        "args": ["-c", f"max_connections={max_connections}"],
        "ports": [{"name": "postgres", "container_port": PORT}],
        "env": [
            {"name": "POSTGRES_USER", "value": "mlflow"},
            {"name": "POSTGRES_DB", "value": "mlflow"},
            {"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"},
            # Read by initdb only (an empty volume); the postStart hook applies it on every start,
            # so a new password (the Secret changed, or the claim outlived the pod) works.
            {"name": "POSTGRES_PASSWORD", "value_from": password},
        ],
        "lifecycle": {"post_start": {"exec": {"command": list(set_password_command())}}},
        "resources": resources("250m", "512Mi", "2", "2Gi", scratch="1040Mi"),
        "security_context": container_security(),
        "startup_probe": {**probe, "failure_threshold": 30},
        "readiness_probe": probe,
        "liveness_probe": {**probe, "failure_threshold": 6},
        "volume_mounts": [
            {"name": "data", "mount_path": "/var/lib/postgresql/data"},
            {"name": "init", "mount_path": "/docker-entrypoint-initdb.d", "read_only": True},
            {"name": "run", "mount_path": SOCKET_DIR},
            {"name": "tmp", "mount_path": "/tmp"},
        ],
    }
    volumes = [
        {"name": "init", "config_map": {"name": "postgres-init"}},
        tmp_volume("run", "16Mi"),
        tmp_volume(),
    ]
    spec = single_pod_stateful_set(NAME, UID, container, volumes, storage, storage_class)
    spec["template"]["metadata"]["annotations"] = {CHECKSUM_ANNOTATION: secrets_checksum}
    return spec
