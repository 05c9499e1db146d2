"""Stack configuration (Pulumi.yaml documents every key), read once into a typed value."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from infra.server_command import MLFLOW_VERSION

IMAGES = {
    # Pinned: a version tag never moves silently (no :latest anywhere).
    "postgres": "postgres:16.4-bookworm",
    "minio": "minio/minio:RELEASE.2025-04-22T22-12-26Z",
    "mc": "minio/mc:RELEASE.2025-04-16T18-13-26Z",
}
LOCAL_MLFLOW_IMAGE = f"mlflow-registry-server:{MLFLOW_VERSION}"


class ConfigError(Exception):
    pass


@dataclass(frozen=True)
class StackConfig:
    target: str
    mlflow_image: str
    bind_address: str
    mlflow_port: int
    namespace: str
    hostname: str | None
    ingress_class: str
    tls_secret: str | None
    cluster_issuer: str | None
    replicas: int
    max_replicas: int
    storage_class: str | None
    postgres_storage: str
    minio_storage: str
    bucket: str
    external_database: bool
    external_s3: bool
    s3_endpoint_url: str | None
    ingress_namespace: str
    service_monitor: bool
    service_account_annotations: dict
    pod_annotations: dict
    service_annotations: dict
    node_selector: dict
    tolerations: list
    mlflow_resources: dict

    @classmethod
    def load(cls) -> StackConfig:
        c = pulumi.Config()
        target = c.get("target") or "docker"
        if target not in ("docker", "kubernetes"):
            raise ConfigError(f"config target: {target!r} is not 'docker' or 'kubernetes'")
        config = cls(
            target=target,
            mlflow_image=c.get("mlflowImage") or (LOCAL_MLFLOW_IMAGE if target == "docker" else ""),
            bind_address=c.get("bindAddress") or "127.0.0.1",
            mlflow_port=c.get_int("mlflowPort") or 5000,
            namespace=c.get("namespace") or "mlflow",
            hostname=c.get("hostname"),
            ingress_class=c.get("ingressClassName") or "nginx",
            tls_secret=c.get("tlsSecretName"),
            cluster_issuer=c.get("clusterIssuer"),
            replicas=c.get_int("replicas") or 2,
            max_replicas=c.get_int("maxReplicas") or 6,
            storage_class=c.get("storageClass"),
            postgres_storage=c.get("postgresStorage") or "20Gi",
            minio_storage=c.get("minioStorage") or "100Gi",
            bucket=c.get("artifactBucket") or "mlflow",
            external_database=c.get_bool("externalDatabase") or False,
            external_s3=c.get_bool("externalS3") or False,
            s3_endpoint_url=c.get("s3EndpointUrl"),
            ingress_namespace=c.get("ingressNamespace") or "ingress-nginx",
            service_monitor=c.get_bool("serviceMonitor") or False,
            service_account_annotations=c.get_object("serviceAccountAnnotations") or {},
            pod_annotations=c.get_object("podAnnotations") or {},
            service_annotations=c.get_object("serviceAnnotations") or {},
            node_selector=c.get_object("nodeSelector") or {},
            tolerations=c.get_object("tolerations") or [],
            mlflow_resources=c.get_object("mlflowResources") or {},
        )
        config.check()
        return config

    def check(self) -> None:
        if self.target != "kubernetes":
            return
        if (
            not self.mlflow_image
            or self.mlflow_image.endswith(":latest")
            or ":" not in self.mlflow_image.split("/")[-1]
        ):
            raise ConfigError(
                "config mlflowImage: set the pushed server image, pinned by a version tag or @sha256 digest"
            )
        if self.replicas < 2:
            raise ConfigError("config replicas: at least 2 for a highly available registry")
        if not self.hostname:
            raise ConfigError("config hostname: set the public host name of the Ingress")
