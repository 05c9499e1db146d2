"""The Kubernetes target: namespace, default-deny network policy, PostgreSQL, MinIO, MLflow server."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra import secrets
from infra.config import StackConfig
from infra.k8s.common import labels
from infra.k8s.mlflow_server import SERVICE, MlflowServer, ServerInputs
from infra.k8s.object_store import ObjectStore
from infra.k8s.postgres import Postgres


@dataclass
class KubernetesStack:
    namespace: k8s.core.v1.Namespace
    default_deny: k8s.networking.v1.NetworkPolicy
    postgres: Postgres | None
    object_store: ObjectStore | None
    server: MlflowServer
    outputs: dict[str, pulumi.Input]


def build(c: StackConfig) -> KubernetesStack:
    namespace = k8s.core.v1.Namespace(
        "namespace",
        metadata={
            "name": c.namespace,
            "labels": {
                **labels("mlflow-registry"),
                "pod-security.kubernetes.io/enforce": "restricted",
                "pod-security.kubernetes.io/audit": "restricted",
            },
        },
    )
    in_ns = pulumi.ResourceOptions(depends_on=[namespace])
    default_deny = k8s.networking.v1.NetworkPolicy(
        "default-deny-ingress",
        metadata={"name": "default-deny-ingress", "namespace": c.namespace},
        spec={"pod_selector": {}, "policy_types": ["Ingress"]},
        opts=in_ns,
    )
    postgres = (
        None if c.external_database else Postgres("postgres", c.namespace, c.postgres_storage, c.storage_class, in_ns)
    )
    store = (
        None if c.external_s3 else ObjectStore("minio", c.namespace, c.bucket, c.minio_storage, c.storage_class, in_ns)
    )
    db_uri = secrets.from_secret_config("databaseUri") if postgres is None else postgres.uri
    auth_uri = secrets.from_secret_config("authDatabaseUri") if postgres is None else postgres.auth_uri
    if store is None and pulumi.Config().get("s3AccessKey") is None:
        access, secret, endpoint = None, None, c.s3_endpoint_url  # the pod's identity (IRSA, workload identity)
    elif store is None:
        access, secret, endpoint = (
            secrets.from_secret_config("s3AccessKey"),
            secrets.from_secret_config("s3SecretKey"),
            c.s3_endpoint_url,
        )
    else:
        access, secret, endpoint = store.access_key, store.secret_key, store.endpoint
    inputs = ServerInputs(
        c.namespace,
        c.mlflow_image,
        c.replicas,
        c.max_replicas,
        c.hostname or "",
        c.ingress_class,
        c.tls_secret,
        c.cluster_issuer,
        c.ingress_namespace,
        c.bucket,
        endpoint,
        c.service_monitor,
        c.service_account_annotations,
        c.pod_annotations,
        c.service_annotations,
        c.node_selector,
        c.tolerations,
        c.mlflow_resources,
    )
    depends = [r for r in (namespace, postgres, store and store.bucket_job) if r is not None]
    server = MlflowServer(
        "mlflow", inputs, db_uri, auth_uri, access, secret, pulumi.ResourceOptions(depends_on=depends)
    )
    outputs = {
        "target": "kubernetes",
        "tracking_uri": f"https://{c.hostname}",
        "in_cluster_tracking_uri": f"http://{SERVICE}.{c.namespace}.svc.cluster.local",
        "admin_username": "admin",
        "admin_password": server.admin_password,
    }
    return KubernetesStack(namespace, default_deny, postgres, store, server, outputs)
