"""MinIO for artifacts: a StatefulSet with a volume, plus a Job that creates the bucket and a
bucket-scoped user for MLflow (MLflow never holds MinIO's root credentials)."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from infra import secrets
from infra.config import IMAGES
from infra.k8s.common import (
    S3_CLIENT,
    container_security,
    ingress_only_from,
    labels,
    one_shot_job,
    pods_labelled,
    resources,
    selector,
    single_pod_stateful_set,
    tmp_volume,
)
from infra.minio_setup import BUCKET_SCRIPT

NAME = "minio"
PORT = 9000
UID = 1000


def _secret_env(name: str, secret: str, key: str) -> dict:
    return {"name": name, "value_from": {"secret_key_ref": {"name": secret, "key": key}}}


class ObjectStore(pulumi.ComponentResource):
    """In-cluster MinIO. `endpoint`, `access_key`, `secret_key` are what MLflow uses."""

    def __init__(
        self,
        name: str,
        namespace: str,
        bucket: str,
        storage: str,
        storage_class: str | None,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("mlflow-registry:k8s:ObjectStore", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        meta = {"namespace": namespace, "labels": labels(NAME)}
        self.access_key = pulumi.Output.from_input("mlflow")
        self.secret_key = secrets.generated(f"{name}-mlflow-secret-key", self)
        self.root_secret = k8s.core.v1.Secret(
            f"{name}-root",
            metadata={"name": "minio-root", **meta},
            string_data={"user": "minio-admin", "password": secrets.generated(f"{name}-root-password", self)},
            opts=child,
        )
        self.mlflow_secret = k8s.core.v1.Secret(
            f"{name}-mlflow-user",
            metadata={"name": "minio-mlflow-user", **meta},
            string_data={"access-key": self.access_key, "secret-key": self.secret_key},
            opts=child,
        )
        self.service = k8s.core.v1.Service(
            f"{name}-service",
            metadata={"name": NAME, **meta},
            spec={"selector": selector(NAME), "ports": [{"name": "s3", "port": PORT, "target_port": PORT}]},
            opts=child,
        )
        self.stateful_set = k8s.apps.v1.StatefulSet(
            f"{name}-statefulset", metadata={"name": NAME, **meta}, spec=self._spec(storage, storage_class), opts=child
        )
        self.bucket_job = k8s.batch.v1.Job(
            f"{name}-bucket",
            metadata={"name": "minio-bucket", **meta},
            spec=self._job(bucket),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.stateful_set, self.mlflow_secret]),
        )
        self.network_policy = k8s.networking.v1.NetworkPolicy(
            f"{name}-ingress",
            metadata={"name": "minio-from-mlflow", **meta},
            spec=ingress_only_from(NAME, PORT, pods_labelled(S3_CLIENT)),
            opts=child,
        )
        self.endpoint = f"http://{NAME}.{namespace}.svc.cluster.local:{PORT}"
        self.register_outputs({"endpoint": self.endpoint})

    def _spec(self, storage: str, storage_class: str | None) -> dict:
        probe = {"http_get": {"path": "/minio/health/live", "port": PORT}, "period_seconds": 10}
        container = {
            "name": "minio",
            "image": IMAGES["minio"],
            "args": ["server", "/data", "--address", f":{PORT}"],
            "ports": [{"name": "s3", "container_port": PORT}],
            "env": [
                _secret_env("MINIO_ROOT_USER", "minio-root", "user"),
                _secret_env("MINIO_ROOT_PASSWORD", "minio-root", "password"),
            ],
            "resources": resources("250m", "512Mi", "2", "2Gi"),
            "security_context": container_security(),
            "startup_probe": {**probe, "failure_threshold": 30},
            "readiness_probe": {**probe, "http_get": {"path": "/minio/health/ready", "port": PORT}},
            "liveness_probe": probe,
            "volume_mounts": [{"name": "data", "mount_path": "/data"}, {"name": "tmp", "mount_path": "/tmp"}],
        }
        return single_pod_stateful_set(NAME, UID, container, [tmp_volume()], storage, storage_class)

    def _job(self, bucket: str) -> dict:
        container = {
            "name": "mc",
            "image": IMAGES["mc"],
            "command": ["sh", "-c", BUCKET_SCRIPT],
            "env": [
                _secret_env("MINIO_ROOT_USER", "minio-root", "user"),
                _secret_env("MINIO_ROOT_PASSWORD", "minio-root", "password"),
                _secret_env("MLFLOW_ACCESS_KEY", "minio-mlflow-user", "access-key"),
                _secret_env("MLFLOW_SECRET_KEY", "minio-mlflow-user", "secret-key"),
                {"name": "BUCKET", "value": bucket},
                {"name": "HOME", "value": "/tmp"},
                {"name": "MC_CONFIG_DIR", "value": "/tmp/.mc"},
            ],
            "resources": resources("50m", "64Mi", "500m", "256Mi"),
        }
        return one_shot_job("minio-bucket", S3_CLIENT, UID, container, backoff=10, restart_policy="OnFailure")
