"""PostgreSQL for production: a CloudNativePG Cluster (one primary, standbys it fails over to), its
WAL archived continuously and base backups taken on a schedule to the object store through the
Barman Cloud plugin, and point-in-time recovery from those backups when the Cluster is created.

Needs, installed by the cluster's operators: CloudNativePG (>= 1.26) and its Barman Cloud plugin
(`barman-cloud.cloudnative-pg.io`, which needs cert-manager). The in-tree
`.spec.backup.barmanObjectStore` is deprecated since 1.26 and removed in 1.32, so it is not used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from infra import images, secrets
from infra.config import PostgresConfig
from infra.k8s.common import DB_CLIENT, S3_CLIENT, labels
from infra.server_command import database_uri

CNPG_API = "postgresql.cnpg.io/v1"
BARMAN_API = "barmancloud.cnpg.io/v1"
CLUSTER = "mlflow-pg"
PLUGIN = "barman-cloud.cloudnative-pg.io"
OBJECT_STORE = "mlflow-pg-backups"
APP_CREDENTIALS = "mlflow-pg-app"
PORT = 5432
INSTANCE_MANAGER_PORT = 8000  # CloudNativePG's instance manager: status, probes, backups
METRICS_PORT = 9187
WAIT_READY = "pulumi.com/waitFor"  # pulumi-kubernetes: what "ready" means for a custom resource


@dataclass(frozen=True)
class BackupTarget:
    """Where the WAL archive and base backups go, and with which credentials."""

    bucket: str
    endpoint_url: str | None
    credentials_secret: str | None  # a Secret with access-key and secret-key; None: the pods' identity


class CloudNativePg(pulumi.ComponentResource):
    """`uri` and `auth_uri` are secret outputs (the read-write Service) for the MLflow server."""

    def __init__(
        self,
        name: str,
        namespace: str,
        p: PostgresConfig,
        storage_class: str | None,
        backup: BackupTarget,
        monitoring_namespace: str,
        opts: pulumi.ResourceOptions | None = None,
        protect: bool = True,
    ):
        super().__init__("mlflow-registry:k8s:CloudNativePg", name, None, opts)
        self.protect = protect
        child = pulumi.ResourceOptions(parent=self)
        meta = {"namespace": namespace, "labels": labels(CLUSTER)}
        self.password = secrets.generated(f"{name}-password", self)
        # The operator keeps the role's password equal to this Secret (managed role, reload label):
        # rotating the generated password rotates it in PostgreSQL too.
        self.app_secret = k8s.core.v1.Secret(
            f"{name}-app",
            metadata={"name": APP_CREDENTIALS, **meta, "labels": {**meta["labels"], "cnpg.io/reload": "true"}},
            type="kubernetes.io/basic-auth",
            string_data={"username": "mlflow", "password": self.password},
            opts=child,
        )
        # The archive's folder: generated once per stack unless set, so a stack created again (or a
        # second stack on the same bucket) never finds a non-empty archive, which CloudNativePG
        # refuses to archive into (the WAL archiver's empty-archive check).
        self.server_name: pulumi.Output[str] = (
            pulumi.Output.from_input(p.server_name)
            if p.server_name
            else random.RandomString(
                f"{name}-server-suffix", length=6, special=False, upper=False, opts=child
            ).result.apply(lambda suffix: f"{CLUSTER}-{suffix}")
        )
        ready = {WAIT_READY: "condition=Ready"}
        applied = {WAIT_READY: "jsonpath={.status.applied}=true"}
        self.object_store = self._custom(
            f"{name}-object-store", BARMAN_API, "ObjectStore", {"name": OBJECT_STORE, **meta},
            object_store_spec(backup, p.backup_retention),
        )  # fmt: skip
        # Recovery (PITR) is a replacement of the Cluster under the same name: delete it first.
        self.cluster = self._custom(
            f"{name}-cluster", CNPG_API, "Cluster", {"name": CLUSTER, **meta, "annotations": ready},
            cluster_spec(p, storage_class, self.server_name), [self.app_secret, self.object_store],
            delete_before_replace=True,
            protect=protect,
        )  # fmt: skip
        self.auth_database = self._custom(
            f"{name}-auth-database", CNPG_API, "Database", {"name": "mlflow-auth", **meta, "annotations": applied},
            {"cluster": {"name": CLUSTER}, "name": "mlflow_auth", "owner": "mlflow", "ensure": "present"},
            [self.cluster],
        )  # fmt: skip
        self.scheduled_backup = self._custom(
            f"{name}-scheduled-backup", CNPG_API, "ScheduledBackup", {"name": f"{CLUSTER}-base-backup", **meta},
            scheduled_backup_spec(p.backup_schedule), [self.cluster],
        )  # fmt: skip
        self.network_policy = k8s.networking.v1.NetworkPolicy(
            f"{name}-ingress",
            metadata={"name": "mlflow-pg-ingress", **meta},
            spec=network_policy_spec(p.operator_namespace, monitoring_namespace),
            opts=child,
        )
        host = f"{CLUSTER}-rw.{namespace}.svc.cluster.local:{PORT}"
        self.uri = _uri(self.password, host, "mlflow")
        self.auth_uri = _uri(self.password, host, "mlflow_auth")
        self.ready = [self.cluster, self.auth_database]
        self.namespace = namespace
        self.backup_timeout_minutes = p.backup_timeout_minutes
        self.register_outputs({"cluster": CLUSTER})

    def backup_before(self, job_name: pulumi.Output[str], parent: pulumi.Resource) -> list[pulumi.Resource]:
        """An on-demand base backup named after the migration Job (a new Job, a new backup), which
        Pulumi waits for until CloudNativePG reports it completed: the Job starts after it. To roll
        back a failed upgrade: recover from it (the README's recovery steps, postgresRecoveryTime =
        the backup's .status.stoppedAt) and deploy the previous image."""
        backup = k8s.apiextensions.CustomResource(
            "postgres-pre-migration-backup",
            api_version=CNPG_API,
            kind="Backup",
            metadata={
                "name": job_name.apply(lambda n: n.replace("mlflow-db-migrate-", f"{CLUSTER}-pre-migration-")),
                "namespace": self.namespace,
                "labels": labels(CLUSTER),
                "annotations": {WAIT_READY: BACKUP_COMPLETED},
            },
            spec=on_demand_backup_spec(),
            opts=pulumi.ResourceOptions(
                parent=parent,
                depends_on=self.ready,
                custom_timeouts=pulumi.CustomTimeouts(create=f"{self.backup_timeout_minutes}m"),
            ),
        )
        return [backup]

    def _custom(
        self,
        resource_name: str,
        api_version: str,
        kind: str,
        metadata: dict,
        spec: dict,
        depends_on: list[pulumi.Resource] | None = None,
        delete_before_replace: bool = False,
        protect: bool = False,
    ) -> k8s.apiextensions.CustomResource:
        opts = pulumi.ResourceOptions(
            parent=self, depends_on=depends_on or [], delete_before_replace=delete_before_replace, protect=protect
        )
        return k8s.apiextensions.CustomResource(
            resource_name, api_version=api_version, kind=kind, metadata=metadata, spec=spec, opts=opts
        )


BACKUP_COMPLETED = "jsonpath={.status.phase}=completed"  # CloudNativePG api/v1 BackupPhaseCompleted


def on_demand_backup_spec() -> dict[str, Any]:
    return {"cluster": {"name": CLUSTER}, "method": "plugin", "pluginConfiguration": {"name": PLUGIN}}


def scheduled_backup_spec(schedule: str) -> dict[str, Any]:
    return {
        "cluster": {"name": CLUSTER},
        "schedule": schedule,
        "immediate": True,  # a base backup right away: recovery needs one
        "backupOwnerReference": "self",
        "method": "plugin",
        "pluginConfiguration": {"name": PLUGIN},
    }


def _uri(password: pulumi.Output[str], host: str, database: str) -> pulumi.Output[str]:
    return pulumi.Output.secret(password.apply(lambda pw: database_uri("mlflow", pw, host, database)))


def object_store_spec(b: BackupTarget, retention: str) -> dict[str, Any]:
    """The plugin's ObjectStore: `.configuration` has the type of the in-tree barmanObjectStore."""
    credentials: dict[str, Any] = (
        {
            "accessKeyId": {"name": b.credentials_secret, "key": "access-key"},
            "secretAccessKey": {"name": b.credentials_secret, "key": "secret-key"},
        }
        if b.credentials_secret
        else {"inheritFromIAMRole": True}
    )
    configuration: dict[str, Any] = {
        "destinationPath": f"s3://{b.bucket}/",
        "s3Credentials": credentials,
        "wal": {"compression": "gzip", "maxParallel": 4},
        "data": {"compression": "gzip", "jobs": 2},
    }
    if b.endpoint_url:
        configuration["endpointURL"] = b.endpoint_url
    return {"configuration": configuration, "retentionPolicy": retention}


def _bootstrap(p: PostgresConfig) -> dict[str, Any]:
    owner = {"database": "mlflow", "owner": "mlflow", "secret": {"name": APP_CREDENTIALS}}
    if not p.recover_from:
        return {"initdb": {**owner, "encoding": "UTF8"}}
    recovery: dict[str, Any] = {**owner, "source": "origin"}
    if p.recovery_time:
        recovery["recoveryTarget"] = {"targetTime": p.recovery_time}
    return {"recovery": recovery}


def _plugin(server_name: pulumi.Input[str], archiver: bool) -> dict[str, Any]:
    plugin: dict[str, Any] = {
        "name": PLUGIN,
        "parameters": {"barmanObjectName": OBJECT_STORE, "serverName": server_name},
    }
    if archiver:
        plugin["isWALArchiver"] = True
    return plugin


def cluster_spec(p: PostgresConfig, storage_class: str | None, server_name: pulumi.Input[str]) -> dict[str, Any]:
    storage: dict[str, Any] = {"size": p.storage}
    if storage_class:
        storage["storageClass"] = storage_class
    spec: dict[str, Any] = {
        "instances": p.instances,
        "imageName": images.CNPG_POSTGRES,
        "primaryUpdateStrategy": "unsupervised",
        "storage": storage,
        "bootstrap": _bootstrap(p),
        "managed": {
            "roles": [
                {"name": "mlflow", "ensure": "present", "login": True, "passwordSecret": {"name": APP_CREDENTIALS}}
            ]
        },
        "postgresql": {"parameters": {"max_connections": str(p.max_connections)}},
        "plugins": [_plugin(server_name, archiver=True)],
        # The instances reach the in-cluster MinIO through its NetworkPolicy (S3 clients only).
        "inheritedMetadata": {"labels": {S3_CLIENT: "true"}},
        # One instance per node, and spread over zones: hostname anti-affinity alone lets all three
        # share a zone that can go down as one.
        "affinity": {"enablePodAntiAffinity": True, "topologyKey": "kubernetes.io/hostname"},
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": {"cnpg.io/cluster": CLUSTER}},
            }
        ],
        "resources": {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"cpu": "2", "memory": "2Gi"}},
    }
    if p.recover_from:
        spec["externalClusters"] = [{"name": "origin", "plugin": _plugin(p.recover_from, archiver=False)}]
    if p.service_account_annotations:
        spec["serviceAccountTemplate"] = {"metadata": {"annotations": p.service_account_annotations}}
    return spec


def network_policy_spec(operator_namespace: str, monitoring_namespace: str) -> dict[str, Any]:
    """The instances accept: MLflow pods and Jobs (PostgreSQL); each other (replication, instance
    manager); the operator (instance manager, PostgreSQL); Prometheus (exporter)."""
    by_name = "kubernetes.io/metadata.name"
    instances = {"pod_selector": {"match_labels": {"cnpg.io/cluster": CLUSTER}}}

    def tcp(*ports: int) -> list[dict[str, Any]]:
        return [{"protocol": "TCP", "port": port} for port in ports]

    return {
        "pod_selector": {"match_labels": {"cnpg.io/cluster": CLUSTER}},
        "policy_types": ["Ingress"],
        "ingress": [
            {"from": [{"pod_selector": {"match_labels": {DB_CLIENT: "true"}}}], "ports": tcp(PORT)},
            {"from": [instances], "ports": tcp(PORT, INSTANCE_MANAGER_PORT)},
            {
                "from": [{"namespace_selector": {"match_labels": {by_name: operator_namespace}}}],
                "ports": tcp(PORT, INSTANCE_MANAGER_PORT),
            },
            {
                "from": [{"namespace_selector": {"match_labels": {by_name: monitoring_namespace}}}],
                "ports": tcp(METRICS_PORT),
            },
        ],
    }
