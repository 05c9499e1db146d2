"""PostgreSQL for the backend store and the auth database: a StatefulSet with a volume."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from infra import secrets
from infra.config import IMAGES
from infra.k8s.common import (
    DB_CLIENT,
    container_security,
    ingress_only_from,
    labels,
    pods_labelled,
    resources,
    selector,
    single_pod_stateful_set,
    tmp_volume,
)

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
    ):
        super().__init__("mlflow-registry:k8s:Postgres", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.password = secrets.generated(f"{name}-password", self)
        self.secret = k8s.core.v1.Secret(
            f"{name}-credentials",
            metadata={"name": "postgres-credentials", "namespace": namespace, "labels": labels(NAME)},
            string_data={"password": self.password},
            opts=child,
        )
        self.init_scripts = k8s.core.v1.ConfigMap(
            f"{name}-init",
            metadata={"name": "postgres-init", "namespace": namespace, "labels": labels(NAME)},
            data={"10-mlflow-auth.sql": INIT_SQL},
            opts=child,
        )
        self.service = k8s.core.v1.Service(
            f"{name}-service",
            metadata={"name": NAME, "namespace": namespace, "labels": labels(NAME)},
            spec={"selector": selector(NAME), "ports": [{"name": "postgres", "port": PORT, "target_port": PORT}]},
            opts=child,
        )
        self.stateful_set = k8s.apps.v1.StatefulSet(
            f"{name}-statefulset",
            metadata={"name": NAME, "namespace": namespace, "labels": labels(NAME)},
            spec=self._spec(storage, storage_class),
            opts=child,
        )
        self.network_policy = k8s.networking.v1.NetworkPolicy(
            f"{name}-ingress",
            metadata={"name": "postgres-from-mlflow", "namespace": namespace, "labels": labels(NAME)},
            spec=ingress_only_from(NAME, PORT, pods_labelled(DB_CLIENT)),
            opts=child,
        )
        host = f"{NAME}.{namespace}.svc.cluster.local:{PORT}"
        self.uri = pulumi.Output.secret(pulumi.Output.concat("postgresql://mlflow:", self.password, f"@{host}/mlflow"))
        self.auth_uri = pulumi.Output.secret(
            pulumi.Output.concat("postgresql://mlflow:", self.password, f"@{host}/mlflow_auth")
        )
        self.register_outputs({"service": self.service.metadata.name})

    def _spec(self, storage: str, storage_class: str | None) -> dict:
        probe = {
            "exec": {"command": ["pg_isready", "-U", "mlflow", "-d", "mlflow", "-h", "127.0.0.1"]},
            "period_seconds": 10,
            "timeout_seconds": 5,
        }
        password = {"secret_key_ref": {"name": "postgres-credentials", "key": "password"}}
        container = {
            "name": "postgres",
            "image": IMAGES["postgres"],
            "ports": [{"name": "postgres", "container_port": PORT}],
            "env": [
                {"name": "POSTGRES_USER", "value": "mlflow"},
                {"name": "POSTGRES_DB", "value": "mlflow"},
                {"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"},
                {"name": "POSTGRES_PASSWORD", "value_from": password},
            ],
            "resources": resources("250m", "512Mi", "2", "2Gi"),
            "security_context": container_security(),
            "startup_probe": {**probe, "failure_threshold": 30},
            "readiness_probe": probe,
            "liveness_probe": {**probe, "failure_threshold": 6},
            "volume_mounts": [
                {"name": "data", "mount_path": "/var/lib/postgresql/data"},
                {"name": "init", "mount_path": "/docker-entrypoint-initdb.d", "read_only": True},
                {"name": "run", "mount_path": "/var/run/postgresql"},
                {"name": "tmp", "mount_path": "/tmp"},
            ],
        }
        volumes = [
            {"name": "init", "config_map": {"name": "postgres-init"}},
            {"name": "run", "empty_dir": {}},
            tmp_volume(),
        ]
        return single_pod_stateful_set(NAME, UID, container, volumes, storage, storage_class)
