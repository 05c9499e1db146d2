"""MinIO for artifacts (and PostgreSQL backups): a StatefulSet with a volume, plus a Job that creates
the buckets and bucket-scoped users (MLflow and the backups never hold MinIO's root credentials).

The image is built from pinned upstream commits (infra/minio/Dockerfile): MinIO publishes none any
more. Its community edition is archived and advisories of 2026 are fixed only in the proprietary
AIStor, so production should use an external S3 bucket (externalS3); this is for small setups.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra import secrets
from infra.k8s.common import (
    CHECKSUM_ANNOTATION,
    S3_CLIENT,
    checksum,
    container_security,
    content_name,
    ingress_only_from,
    job_metadata,
    labels,
    one_shot_job,
    pods_labelled,
    resources,
    selector,
    single_pod_stateful_set,
    tmp_volume,
)
from infra.minio_setup import ARTIFACTS, BACKUPS, BUCKET_SCRIPT, MINIO_ROOT_PASSWORD, MINIO_ROOT_USER

NAME = "minio"
PORT = 9000
UID = 1000  # the minio user of infra/minio/Dockerfile
BACKUP_CREDENTIALS = "minio-backup-user"


def _secret_env(name: str, secret: str, key: str) -> dict:
    return {"name": name, "value_from": {"secret_key_ref": {"name": secret, "key": key}}}


@dataclass(frozen=True)
class StoreInputs:
    namespace: str
    image: str
    bucket: str
    storage: str
    storage_class: str | None
    backup_bucket: str | None  # PostgreSQL backups (CloudNativePG); None: no backup user
    protect: bool = True  # the StatefulSet (its claim holds the artifacts)


class ObjectStore(pulumi.ComponentResource):
    """In-cluster MinIO. `endpoint`, `access_key`, `secret_key` are what MLflow uses; with a backup
    bucket, the Secret BACKUP_CREDENTIALS (access-key, secret-key) is what the database backups use."""

    def __init__(self, name: str, i: StoreInputs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlflow-registry:k8s:ObjectStore", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        meta = {"namespace": i.namespace, "labels": labels(NAME)}
        job_secrets, root_password = self._secrets(name, i, meta)
        self.service = k8s.core.v1.Service(
            f"{name}-service",
            metadata={"name": NAME, **meta},
            spec={"selector": selector(NAME), "ports": [{"name": "s3", "port": PORT, "target_port": PORT}]},
            opts=child,
        )
        self.stateful_set = k8s.apps.v1.StatefulSet(
            f"{name}-statefulset",
            metadata={"name": NAME, **meta},
            spec=_spec(i, checksum(root_password)),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.root_secret], protect=i.protect),
        )
        job_checksum = checksum(*job_secrets)
        self.bucket_job = k8s.batch.v1.Job(
            f"{name}-bucket",
            metadata=job_metadata(content_name("minio-bucket", i.image, i.bucket, job_checksum), i.namespace, NAME),
            spec=_job(i, job_checksum),
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[r for r in (self.stateful_set, self.mlflow_secret, self.backup_secret) if r is not None],
            ),
        )
        self.network_policy = k8s.networking.v1.NetworkPolicy(
            f"{name}-ingress",
            metadata={"name": "minio-from-clients", **meta},
            spec=ingress_only_from(NAME, PORT, pods_labelled(S3_CLIENT)),
            opts=child,
        )
        self.endpoint = f"http://{NAME}.{i.namespace}.svc.cluster.local:{PORT}"
        self.register_outputs({"endpoint": self.endpoint})

    def _secrets(self, name: str, i: StoreInputs, meta: dict) -> tuple[list[pulumi.Input[str]], pulumi.Output[str]]:
        """The root, MLflow and backup users' Secrets; returns what the bucket Job reads, and the root password."""
        child = pulumi.ResourceOptions(parent=self)
        self.access_key = pulumi.Output.from_input("mlflow")
        self.secret_key = secrets.generated(f"{name}-mlflow-secret-key", self)
        root_password = secrets.generated(f"{name}-root-password", self)
        self.root_secret = k8s.core.v1.Secret(
            f"{name}-root",
            metadata={"name": "minio-root", **meta},
            string_data={"user": "minio-admin", "password": root_password},
            opts=child,
        )
        self.mlflow_secret = k8s.core.v1.Secret(
            f"{name}-mlflow-user",
            metadata={"name": "minio-mlflow-user", **meta},
            string_data={"access-key": self.access_key, "secret-key": self.secret_key},
            opts=child,
        )
        job_secrets: list[pulumi.Input[str]] = [root_password, self.secret_key]
        self.backup_secret = None
        if i.backup_bucket:
            backup_key = secrets.generated(f"{name}-backup-secret-key", self)
            job_secrets.append(backup_key)
            self.backup_secret = k8s.core.v1.Secret(
                f"{name}-backup-user",
                metadata={"name": BACKUP_CREDENTIALS, **meta},
                string_data={"access-key": "postgres-backup", "secret-key": backup_key},
                opts=child,
            )
        return job_secrets, root_password


def _spec(i: StoreInputs, secrets_checksum: pulumi.Input[str]) -> dict:
    probe = {"http_get": {"path": "/minio/health/live", "port": PORT}, "period_seconds": 10}
    container = {
        "name": "minio",
        "image": i.image,
        "args": ["server", "/data", "--address", f":{PORT}"],
        "ports": [{"name": "s3", "container_port": PORT}],
        "env": [
            _secret_env(MINIO_ROOT_USER, "minio-root", "user"),
            _secret_env(MINIO_ROOT_PASSWORD, "minio-root", "password"),
        ],
        "resources": resources("250m", "512Mi", "2", "2Gi"),
        "security_context": container_security(),
        "startup_probe": {**probe, "failure_threshold": 30},
        "readiness_probe": {**probe, "http_get": {"path": "/minio/health/ready", "port": PORT}},
        "liveness_probe": probe,
        "volume_mounts": [{"name": "data", "mount_path": "/data"}, {"name": "tmp", "mount_path": "/tmp"}],
    }
    spec = single_pod_stateful_set(NAME, UID, container, [tmp_volume()], i.storage, i.storage_class)
    spec["template"]["metadata"]["annotations"] = {CHECKSUM_ANNOTATION: secrets_checksum}
    return spec


def _job(i: StoreInputs, secrets_checksum: pulumi.Input[str]) -> dict:
    """infra/minio_setup.py's script, with the environment it declares."""
    env = [
        _secret_env(MINIO_ROOT_USER, "minio-root", "user"),
        _secret_env(MINIO_ROOT_PASSWORD, "minio-root", "password"),
        {"name": ARTIFACTS.bucket, "value": i.bucket},
        _secret_env(ARTIFACTS.access_key, "minio-mlflow-user", "access-key"),
        _secret_env(ARTIFACTS.secret_key, "minio-mlflow-user", "secret-key"),
        {"name": "HOME", "value": "/tmp"},
        {"name": "MC_CONFIG_DIR", "value": "/tmp/.mc"},
    ]
    if i.backup_bucket:
        env += [
            {"name": BACKUPS.bucket, "value": i.backup_bucket},
            _secret_env(BACKUPS.access_key, BACKUP_CREDENTIALS, "access-key"),
            _secret_env(BACKUPS.secret_key, BACKUP_CREDENTIALS, "secret-key"),
        ]
    container = {
        "name": "mc",
        "image": i.image,
        "command": ["sh", "-c", BUCKET_SCRIPT],
        "env": env,
        "resources": resources("50m", "64Mi", "500m", "256Mi"),
    }
    return one_shot_job("minio-bucket", (S3_CLIENT,), UID, container, 10, secrets_checksum, restart_policy="OnFailure")
