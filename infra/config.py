"""Stack configuration (Pulumi.yaml documents every key), read once into a typed value.

Pulumi applies the defaults declared in Pulumi.yaml before the program runs, so every key arrives;
an empty string means "not set".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pulumi

from infra.images import MINIO_IMAGE_TAG
from infra.k8s.server_settings import MAX_SURGE
from infra.server_command import MLFLOW_VERSION, DatabasePools
from infra.serving import ServingConfig

LOCAL_MLFLOW_IMAGE = f"mlflow-registry-server:{MLFLOW_VERSION}"
LOCAL_MINIO_IMAGE = f"mlflow-registry-minio:{MINIO_IMAGE_TAG}"
POSTGRES_ENGINES = ("cloudnative-pg", "statefulset")
ROUTES = ("ingress", "httproute")
_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
_RETENTION = re.compile(r"^[1-9][0-9]*[dwm]$")  # the Barman Cloud plugin's retentionPolicy pattern
_QUANTITY = re.compile(r"^[1-9][0-9]*(Mi|Gi|Ti)$")


class ConfigError(Exception):
    pass


def _text(c: pulumi.Config, key: str, default: str = "") -> str:
    return c.get(key) or default


@dataclass(frozen=True)
class PostgresConfig:
    """The in-cluster database on Kubernetes (ignored with externalDatabase and on Docker)."""

    engine: str
    instances: int
    storage: str
    backup_bucket: str
    backup_schedule: str
    backup_retention: str
    server_name: str | None  # None: generated once per stack (infra/k8s/cnpg.py)
    recover_from: str | None
    recovery_time: str | None
    operator_namespace: str
    service_account_annotations: dict[str, str]
    backup_timeout_minutes: int = 60  # the pre-migration backup: migrationTimeoutMinutes
    max_connections: int = 200

    @classmethod
    def load(cls, c: pulumi.Config) -> PostgresConfig:
        return cls(
            engine=_text(c, "postgresEngine", "cloudnative-pg"),
            instances=c.get_int("postgresInstances") or 3,
            storage=_text(c, "postgresStorage", "20Gi"),
            backup_bucket=_text(c, "postgresBackupBucket", "postgres-backups"),
            backup_schedule=_text(c, "postgresBackupSchedule", "0 0 3 * * *"),
            backup_retention=_text(c, "postgresBackupRetention", "30d"),
            server_name=c.get("postgresServerName") or None,
            recover_from=c.get("postgresRecoverFrom") or None,
            recovery_time=c.get("postgresRecoveryTime") or None,
            operator_namespace=_text(c, "cnpgNamespace", "cnpg-system"),
            service_account_annotations=c.get_object("postgresServiceAccountAnnotations") or {},
            backup_timeout_minutes=c.get_int("migrationTimeoutMinutes") or 60,
            max_connections=c.get_int("postgresMaxConnections") or 200,
        )

    def check(self) -> None:
        if self.engine not in POSTGRES_ENGINES:
            raise ConfigError(f"config postgresEngine: {self.engine!r} is not one of {', '.join(POSTGRES_ENGINES)}")
        if self.engine != "cloudnative-pg":
            return
        if self.instances < 3:
            raise ConfigError("config postgresInstances: at least 3 (a primary and two standbys to fail over to)")
        if not _RETENTION.match(self.backup_retention):
            raise ConfigError(
                f"config postgresBackupRetention: {self.backup_retention!r} is not a number of days, weeks or "
                "months such as 30d, 8w or 6m"
            )
        if len(self.backup_schedule.split()) != 6:
            raise ConfigError(
                "config postgresBackupSchedule: CloudNativePG takes six cron fields, seconds first (e.g. '0 0 3 * * *')"
            )
        self._check_recovery()

    def _check_recovery(self) -> None:
        if self.recovery_time and not self.recover_from:
            raise ConfigError("config postgresRecoveryTime: set postgresRecoverFrom too (the server name to recover)")
        if self.recovery_time:
            try:
                moment = datetime.fromisoformat(self.recovery_time.replace("Z", "+00:00"))
            except ValueError:
                moment = None
            if moment is None or moment.tzinfo is None:
                raise ConfigError(
                    f"config postgresRecoveryTime: {self.recovery_time!r} is not an RFC 3339 time with a zone, "
                    "e.g. 2026-11-30T12:00:00Z"
                )
        if self.recover_from and self.recover_from == self.server_name:
            raise ConfigError(
                f"config postgresServerName: the recovered cluster must archive under a new name, not "
                f"{self.server_name!r} (CloudNativePG refuses a non-empty archive): e.g. {self.server_name}-2, "
                "or unset it for a generated one"
            )


@dataclass(frozen=True)
class StackConfig:
    target: str
    mlflow_image: str
    minio_image: str
    bind_address: str
    mlflow_port: int
    namespace: str
    hostname: str | None
    route: str
    gateway: str | None
    gateway_namespace: str | None
    ingress_class: str
    tls_secret: str
    cluster_issuer: str | None
    replicas: int
    max_replicas: int
    tmp_size: str
    migration_timeout_minutes: int
    storage_class: str | None
    postgres: PostgresConfig
    minio_storage: str
    bucket: str
    external_database: bool
    external_s3: bool
    s3_endpoint_url: str | None
    s3_static_keys: bool
    backup_static_keys: bool
    ingress_namespace: str
    monitoring_namespace: str
    service_monitor: bool
    service_monitor_labels: dict[str, str]
    protect: bool
    service_account_annotations: dict[str, str]
    pod_annotations: dict[str, str]
    service_annotations: dict[str, str]
    node_selector: dict[str, str]
    tolerations: list[dict[str, Any]]
    mlflow_resources: dict[str, Any]
    serving: ServingConfig

    @classmethod
    def load(cls) -> StackConfig:
        c = pulumi.Config()
        target = _text(c, "target", "docker")
        if target not in ("docker", "kubernetes"):
            raise ConfigError(f"config target: {target!r} is not 'docker' or 'kubernetes'")
        docker = target == "docker"
        config = cls(
            target=target,
            mlflow_image=_text(c, "mlflowImage", LOCAL_MLFLOW_IMAGE if docker else ""),
            minio_image=_text(c, "minioImage", LOCAL_MINIO_IMAGE if docker else ""),
            bind_address=_text(c, "bindAddress", "127.0.0.1"),
            mlflow_port=c.get_int("mlflowPort") or 5000,
            namespace=_text(c, "namespace", "mlflow"),
            hostname=c.get("hostname") or None,
            route=_text(c, "route", "ingress"),
            gateway=c.get("gatewayName") or None,
            gateway_namespace=c.get("gatewayNamespace") or None,
            ingress_class=_text(c, "ingressClassName", "nginx"),
            tls_secret=_text(c, "tlsSecretName", "mlflow-tls"),
            cluster_issuer=c.get("clusterIssuer") or None,
            replicas=c.get_int("replicas") or 2,
            max_replicas=c.get_int("maxReplicas") or 6,
            tmp_size=_text(c, "mlflowTmpSize", "16Gi"),
            migration_timeout_minutes=c.get_int("migrationTimeoutMinutes") or 60,
            storage_class=c.get("storageClass") or None,
            postgres=PostgresConfig.load(c),
            minio_storage=_text(c, "minioStorage", "100Gi"),
            bucket=_text(c, "artifactBucket", "mlflow"),
            external_database=c.get_bool("externalDatabase") or False,
            external_s3=c.get_bool("externalS3") or False,
            s3_endpoint_url=c.get("s3EndpointUrl") or None,
            s3_static_keys=c.get("s3AccessKey") is not None,
            backup_static_keys=c.get("backupS3AccessKey") is not None,
            ingress_namespace=_text(c, "ingressNamespace", "ingress-nginx"),
            monitoring_namespace=_text(c, "monitoringNamespace", "monitoring"),
            service_monitor=c.get_bool("serviceMonitor") or False,
            service_monitor_labels=c.get_object("serviceMonitorLabels") or {},
            protect=c.get_bool("protect") is not False,
            service_account_annotations=c.get_object("serviceAccountAnnotations") or {},
            pod_annotations=c.get_object("podAnnotations") or {},
            service_annotations=c.get_object("serviceAnnotations") or {},
            node_selector=c.get_object("nodeSelector") or {},
            tolerations=c.get_object("tolerations") or [],
            mlflow_resources=c.get_object("mlflowResources") or {},
            serving=ServingConfig.load(
                c, f"http://localhost:{c.get_int('mlflowPort') or 5000}" if docker else f"https://{c.get('hostname')}"
            ),
        )
        config.check()
        return config

    @property
    def cloudnative_pg(self) -> bool:
        return self.target == "kubernetes" and not self.external_database and self.postgres.engine == "cloudnative-pg"

    def check(self) -> None:
        if self.target != "kubernetes":
            return
        _check_pushed_image("mlflowImage", self.mlflow_image)
        if not self.external_s3:
            _check_pushed_image("minioImage", self.minio_image)
        if self.replicas < 2:
            raise ConfigError("config replicas: at least 2 for a highly available registry")
        if not self.hostname:
            raise ConfigError("config hostname: set the public host name of the Ingress")
        if self.route not in ROUTES:
            raise ConfigError(f"config route: {self.route!r} is not one of {', '.join(ROUTES)}")
        if self.route == "httproute" and not self.gateway:
            raise ConfigError("config gatewayName: set the Gateway the HTTPRoute attaches to (route httproute)")
        try:
            DatabasePools.within(self.postgres.max_connections, max(self.max_replicas, self.replicas) + MAX_SURGE)
        except ValueError as error:
            raise ConfigError(f"config postgresMaxConnections: {error}") from None
        if not _QUANTITY.match(self.tmp_size):
            raise ConfigError(f"config mlflowTmpSize: {self.tmp_size!r} is not a size such as 16Gi")
        if not self.external_database:
            self.postgres.check()
        identityless = (
            self.external_s3 and not self.backup_static_keys and not self.postgres.service_account_annotations
        )
        if self.cloudnative_pg and identityless:
            raise ConfigError(
                "config postgresServiceAccountAnnotations: with externalS3 the database backups need credentials "
                "of their own (the artifacts' keys are not reused): set the annotations (e.g. an IAM role) of the "
                "PostgreSQL pods, or the secret configs backupS3AccessKey and backupS3SecretKey"
            )


def _check_pushed_image(key: str, image: str) -> None:
    last = image.split("/")[-1]
    if not image or image.endswith(":latest") or (":" not in last and not _DIGEST.search(image)):
        raise ConfigError(
            f"config {key}: set the image you pushed, pinned by its @sha256 digest (or at least a version tag)"
        )
