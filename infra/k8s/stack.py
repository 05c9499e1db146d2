"""The Kubernetes target: namespace, default-deny network policy, PostgreSQL (CloudNativePG, one
StatefulSet pod, or external), MinIO or external S3, and the MLflow server."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra import secrets
from infra.config import StackConfig
from infra.k8s.cnpg import BackupTarget, CloudNativePg
from infra.k8s.common import labels
from infra.k8s.mlflow_server import SERVICE, MlflowServer, ServerInputs
from infra.k8s.object_store import BACKUP_CREDENTIALS, ObjectStore, StoreInputs
from infra.k8s.postgres import Postgres
from infra.k8s.serving import SERVING, ServedModel
from infra.server_command import with_connection_options, with_psycopg_driver
from infra.serving import served_workloads

EXTERNAL_BACKUP_CREDENTIALS = "postgres-backup-s3"


def external_database_uri(uri: str) -> str:
    return with_connection_options(with_psycopg_driver(uri))


@dataclass
class KubernetesStack:
    namespace: k8s.core.v1.Namespace
    default_deny: k8s.networking.v1.NetworkPolicy
    database: Postgres | CloudNativePg | None
    object_store: ObjectStore | None
    server: MlflowServer
    outputs: dict[str, pulumi.Input]


METADATA_SERVICE = ("169.254.169.254/32", "fd00:ec2::254/128")  # the link-local IPv4 one; AWS's IPv6 one


def no_metadata_egress_spec() -> dict:
    # Not the scoring pods: their own policy allows the tracking server and DNS only (policies add up).
    return {
        "pod_selector": {"match_expressions": [{"key": SERVING, "operator": "DoesNotExist"}]},
        "policy_types": ["Egress"],
        "egress": [
            {
                "to": [
                    {"ip_block": {"cidr": "0.0.0.0/0", "except": [METADATA_SERVICE[0]]}},
                    {"ip_block": {"cidr": "::/0", "except": [METADATA_SERVICE[1]]}},
                    {"namespace_selector": {}},  # every pod (DNS, the operator, the API server's pods)
                ]
            }
        ],
    }


def _namespace(c: StackConfig) -> k8s.core.v1.Namespace:
    # Deleting the namespace deletes every claim in it (the database's and MinIO's volumes).
    return k8s.core.v1.Namespace(
        "namespace",
        opts=pulumi.ResourceOptions(protect=c.protect),
        metadata={
            "name": c.namespace,
            "labels": {
                **labels("mlflow-registry"),
                "pod-security.kubernetes.io/enforce": "restricted",
                "pod-security.kubernetes.io/audit": "restricted",
            },
        },
    )


def _object_store(c: StackConfig, opts: pulumi.ResourceOptions) -> ObjectStore | None:
    if c.external_s3:
        return None
    backup_bucket = c.postgres.backup_bucket if c.cloudnative_pg else None
    inputs = StoreInputs(
        c.namespace, c.minio_image, c.bucket, c.minio_storage, c.storage_class, backup_bucket, c.protect
    )
    return ObjectStore("minio", inputs, opts)


def _backup_target(c: StackConfig, store: ObjectStore | None, opts: pulumi.ResourceOptions) -> BackupTarget:
    if store is not None:
        return BackupTarget(c.postgres.backup_bucket, store.endpoint, BACKUP_CREDENTIALS)
    if not c.backup_static_keys:
        return BackupTarget(c.postgres.backup_bucket, c.s3_endpoint_url, None)  # the pods' identity
    # Keys of their own: the artifacts' key pair (s3AccessKey) is never the backups'.
    k8s.core.v1.Secret(
        "postgres-backup-s3",
        metadata={"name": EXTERNAL_BACKUP_CREDENTIALS, "namespace": c.namespace, "labels": labels("mlflow-pg")},
        string_data={
            "access-key": secrets.from_secret_config("backupS3AccessKey"),
            "secret-key": secrets.from_secret_config("backupS3SecretKey"),
        },
        opts=opts,
    )
    return BackupTarget(c.postgres.backup_bucket, c.s3_endpoint_url, EXTERNAL_BACKUP_CREDENTIALS)


def _database(c: StackConfig, store: ObjectStore | None, opts: pulumi.ResourceOptions):
    if c.external_database:
        return None
    if c.cloudnative_pg:
        backup = _backup_target(c, store, opts)
        deps = [*(opts.depends_on or []), *([store.bucket_job] if store else [])]  # type: ignore[list-item]
        return CloudNativePg(
            "postgres",
            c.namespace,
            c.postgres,
            c.storage_class,
            backup,
            c.monitoring_namespace,
            pulumi.ResourceOptions(depends_on=deps),
            protect=c.protect,
        )
    return Postgres(
        "postgres", c.namespace, c.postgres.storage, c.storage_class, opts, c.postgres.max_connections, c.protect
    )


def _server_inputs(c: StackConfig, endpoint: str | None) -> ServerInputs:
    return ServerInputs(
        namespace=c.namespace,
        image=c.mlflow_image,
        replicas=c.replicas,
        max_replicas=c.max_replicas,
        hostname=c.hostname or "",
        route=c.route,
        gateway=c.gateway,
        gateway_namespace=c.gateway_namespace,
        ingress_class=c.ingress_class,
        tls_secret=c.tls_secret,
        cluster_issuer=c.cluster_issuer,
        ingress_namespace=c.ingress_namespace,
        monitoring_namespace=c.monitoring_namespace,
        bucket=c.bucket,
        s3_endpoint_url=endpoint,
        service_monitor=c.service_monitor,
        service_monitor_labels=c.service_monitor_labels,
        tmp_size=c.tmp_size,
        migration_timeout_minutes=c.migration_timeout_minutes,
        max_connections=c.postgres.max_connections,
        service_account_annotations=c.service_account_annotations,
        pod_annotations=c.pod_annotations,
        service_annotations=c.service_annotations,
        node_selector=c.node_selector,
        tolerations=c.tolerations,
        resources=c.mlflow_resources,
    )


def build(c: StackConfig) -> KubernetesStack:
    served = served_workloads(c.serving, pinned=True)  # checked before any resource exists
    namespace = _namespace(c)
    in_ns = pulumi.ResourceOptions(depends_on=[namespace])
    default_deny = k8s.networking.v1.NetworkPolicy(
        "default-deny-ingress",
        metadata={"name": "default-deny-ingress", "namespace": c.namespace},
        spec={"pod_selector": {}, "policy_types": ["Ingress"]},
        opts=in_ns,
    )
    # Egress anywhere but the node's metadata service (instance credentials): the pods use their own
    # identities (IRSA, workload identity) or keys, never the node's.
    k8s.networking.v1.NetworkPolicy(
        "no-metadata-egress",
        metadata={"name": "no-metadata-egress", "namespace": c.namespace},
        spec=no_metadata_egress_spec(),
        opts=in_ns,
    )
    store = _object_store(c, in_ns)
    database = _database(c, store, in_ns)
    if database is None:
        db_uri = secrets.from_secret_config("databaseUri").apply(external_database_uri)
        auth_uri = secrets.from_secret_config("authDatabaseUri").apply(external_database_uri)
    else:
        db_uri, auth_uri = database.uri, database.auth_uri
    if store is not None:
        access, secret, endpoint = store.access_key, store.secret_key, store.endpoint
    elif c.s3_static_keys:
        access, secret = secrets.from_secret_config("s3AccessKey"), secrets.from_secret_config("s3SecretKey")
        endpoint = c.s3_endpoint_url
    else:
        access, secret, endpoint = None, None, c.s3_endpoint_url  # the pod's identity (IRSA, workload identity)
    depends: list[pulumi.Resource] = [namespace]
    if isinstance(database, CloudNativePg):
        depends += database.ready
    elif database is not None:
        depends.append(database)
    if store is not None:
        depends.append(store.bucket_job)
    server = MlflowServer(
        "mlflow",
        _server_inputs(c, endpoint),
        db_uri,
        auth_uri,
        access,
        secret,
        pulumi.ResourceOptions(depends_on=depends),
        before_migration=database.backup_before if isinstance(database, CloudNativePg) else None,
    )
    for w in served:
        ServedModel(w, c.namespace, c.serving.credentials_secret, pulumi.ResourceOptions(depends_on=[server]))
    outputs = {
        "target": "kubernetes",
        "served_versions": {w.served.model: w.served.version for w in served},
        "tracking_uri": f"https://{c.hostname}",
        "in_cluster_tracking_uri": f"http://{SERVICE}.{c.namespace}.svc.cluster.local",
        "admin_username": "admin",
        "admin_password": server.admin_password,
    }
    if isinstance(database, CloudNativePg):
        outputs["postgres_server_name"] = database.server_name  # what postgresRecoverFrom names
    return KubernetesStack(namespace, default_deny, database, store, server, outputs)
