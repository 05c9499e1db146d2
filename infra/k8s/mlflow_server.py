"""The MLflow tracking server + registry on Kubernetes, from infra.server_command (the tested flags).

Highly available: >= 2 replicas of one uvicorn worker each, rolling updates with no unavailable pod,
spread across nodes, a PodDisruptionBudget and an HPA. Migrations run in a Job that must finish
before the Deployment rolls. Basic auth with users in PostgreSQL; artifacts proxied to the bucket.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from infra import secrets
from infra.k8s.common import (
    DB_CLIENT,
    S3_CLIENT,
    container_security,
    env,
    ingress_only_from,
    labels,
    one_shot_job,
    pod_security,
    resources,
    selector,
    tmp_volume,
)
from infra.server_command import (
    AUTH_CONFIG_PATH,
    METRICS_DIR,
    ServerSettings,
    auth_config_ini,
    migrate_command,
    server_command,
)

NAME = "mlflow-server"
SERVICE = "mlflow"
PORT = 5000
UID = 10001  # the mlflow user of infra/Dockerfile


@dataclass(frozen=True)
class ServerInputs:
    namespace: str
    image: str
    replicas: int
    max_replicas: int
    hostname: str
    ingress_class: str
    tls_secret: str | None
    cluster_issuer: str | None
    ingress_namespace: str
    bucket: str
    s3_endpoint_url: str | None
    service_monitor: bool
    service_account_annotations: dict = field(default_factory=dict)  # e.g. IRSA / workload identity
    pod_annotations: dict = field(default_factory=dict)
    service_annotations: dict = field(default_factory=dict)
    node_selector: dict = field(default_factory=dict)
    tolerations: list = field(default_factory=list)
    resources: dict = field(default_factory=dict)  # overrides the default requests and limits


class MlflowServer(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        i: ServerInputs,
        db_uri: pulumi.Input[str],
        auth_db_uri: pulumi.Input[str],
        s3_access_key: pulumi.Input[str] | None,
        s3_secret_key: pulumi.Input[str] | None,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("mlflow-registry:k8s:MlflowServer", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ns = i.namespace
        self.settings = ServerSettings(
            artifacts_destination=f"s3://{i.bucket}/artifacts",
            port=PORT,
            allowed_hosts=(
                i.hostname,
                f"{SERVICE}.{ns}.svc.cluster.local",
                f"{SERVICE}.{ns}.svc",
                f"{SERVICE}.{ns}",
                SERVICE,
            ),
            s3_endpoint_url=i.s3_endpoint_url,
            auth_config_path=AUTH_CONFIG_PATH,
            metrics_dir=METRICS_DIR,
            **({} if s3_access_key is not None else {"s3_access_key": None, "s3_secret_key": None}),
        )
        self.command = server_command(self.settings)
        s = self.settings
        self.admin_password = secrets.generated(f"{name}-admin-password", self)
        meta = {"namespace": ns, "labels": labels(NAME)}
        self.db_secret = k8s.core.v1.Secret(
            f"{name}-db",
            metadata={"name": s.backend_store_uri.secret, **meta},
            string_data={s.backend_store_uri.key: db_uri},
            opts=child,
        )
        self.s3_secret = None
        if s.s3_access_key and s.s3_secret_key:  # else the pod's identity (service account annotations)
            self.s3_secret = k8s.core.v1.Secret(
                f"{name}-s3",
                metadata={"name": s.s3_access_key.secret, **meta},
                string_data={s.s3_access_key.key: s3_access_key, s.s3_secret_key.key: s3_secret_key},
                opts=child,
            )
        self.auth_secret = k8s.core.v1.Secret(
            f"{name}-auth",
            metadata={"name": s.admin_password.secret, **meta},
            string_data={
                s.admin_password.key: self.admin_password,
                "metrics-username": "admin",
                s.flask_secret_key.key: secrets.generated(f"{name}-flask-secret-key", self, 48),
                "basic_auth.ini": pulumi.Output.from_input(auth_db_uri).apply(auth_config_ini),
            },
            opts=child,
        )
        self.service_account = k8s.core.v1.ServiceAccount(
            f"{name}-sa",
            metadata={"name": NAME, **meta, "annotations": i.service_account_annotations},
            automount_service_account_token=False,
            opts=child,
        )
        self.migration = k8s.batch.v1.Job(
            f"{name}-migrate",
            metadata={"name": f"mlflow-db-migrate-{_short_hash(i.image)}", **meta},
            spec=self._migration_spec(i.image),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.db_secret], delete_before_replace=True),
        )
        self.deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata={"name": NAME, **meta},
            spec=self._deployment_spec(i),
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[r for r in (self.migration, self.auth_secret, self.s3_secret) if r]
            ),
        )
        self.service = k8s.core.v1.Service(
            f"{name}-service",
            metadata={"name": SERVICE, **meta, "annotations": i.service_annotations},
            spec={"selector": selector(NAME), "ports": [{"name": "http", "port": 80, "target_port": "http"}]},
            opts=child,
        )
        self.ingress = k8s.networking.v1.Ingress(
            f"{name}-ingress",
            metadata={"name": SERVICE, **meta, "annotations": _ingress_annotations(i)},
            spec=_ingress_spec(i),
            opts=child,
        )
        self.disruption_budget = k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb",
            metadata={"name": NAME, **meta},
            spec={"min_available": 1, "selector": {"match_labels": selector(NAME)}},
            opts=child,
        )
        self.autoscaler = k8s.autoscaling.v2.HorizontalPodAutoscaler(
            f"{name}-hpa",
            metadata={"name": NAME, **meta},
            spec={
                "scale_target_ref": {"api_version": "apps/v1", "kind": "Deployment", "name": NAME},
                "min_replicas": i.replicas,
                "max_replicas": max(i.max_replicas, i.replicas),
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {"name": "cpu", "target": {"type": "Utilization", "average_utilization": 70}},
                    }
                ],
            },
            opts=child,
        )
        self.network_policy = k8s.networking.v1.NetworkPolicy(
            f"{name}-ingress-policy",
            metadata={"name": "mlflow-server-clients", **meta},
            spec=ingress_only_from(
                NAME,
                PORT,
                [  # the ingress controller, this namespace, and namespaces labelled as clients
                    {"namespace_selector": {"match_labels": {"kubernetes.io/metadata.name": i.ingress_namespace}}},
                    {"pod_selector": {}},
                    {"namespace_selector": {"match_labels": {"mlflow-registry/client": "true"}}},
                ],
            ),
            opts=child,
        )
        self.service_monitor = self._service_monitor(name, meta) if i.service_monitor else None
        self.register_outputs({"service": self.service.metadata.name})

    def _migration_spec(self, image: str) -> dict:
        container = {
            "name": "migrate",
            "image": image,
            "command": list(migrate_command()),
            "env": env({"MLFLOW_BACKEND_STORE_URI": self.settings.backend_store_uri, "HOME": "/tmp"}),
            "resources": resources("100m", "256Mi", "1", "1Gi"),
        }
        return one_shot_job("mlflow-db-migrate", DB_CLIENT, UID, container, backoff=3)

    def _deployment_spec(self, i: ServerInputs) -> dict:
        health = {"path": "/health", "port": "http"}
        pod_labels = labels(NAME, **{DB_CLIENT: "true", S3_CLIENT: "true"})
        return {
            "replicas": i.replicas,
            "revision_history_limit": 5,
            "selector": {"match_labels": selector(NAME)},
            "strategy": {"type": "RollingUpdate", "rolling_update": {"max_unavailable": 0, "max_surge": 1}},
            "template": {
                "metadata": {
                    "labels": pod_labels,
                    "annotations": {
                        "prometheus.io/scrape": "true",
                        "prometheus.io/port": str(PORT),
                        "prometheus.io/path": "/metrics",
                        **i.pod_annotations,
                    },
                },
                "spec": {
                    "service_account_name": NAME,
                    "node_selector": i.node_selector,
                    "tolerations": i.tolerations,
                    "automount_service_account_token": False,
                    "security_context": pod_security(UID),
                    "termination_grace_period_seconds": 30,
                    "affinity": {
                        "pod_anti_affinity": {
                            "preferred_during_scheduling_ignored_during_execution": [
                                {
                                    "weight": 100,
                                    "pod_affinity_term": {
                                        "topology_key": "kubernetes.io/hostname",
                                        "label_selector": {"match_labels": selector(NAME)},
                                    },
                                }
                            ]
                        }
                    },
                    "topology_spread_constraints": [
                        {
                            "max_skew": 1,
                            "topology_key": "topology.kubernetes.io/zone",
                            "when_unsatisfiable": "ScheduleAnyway",
                            "label_selector": {"match_labels": selector(NAME)},
                        }
                    ],
                    "containers": [
                        {
                            "name": "mlflow",
                            "image": i.image,
                            "command": list(self.command.args),
                            "env": env({**self.command.env, "HOME": "/tmp"}),
                            "ports": [{"name": "http", "container_port": PORT}],
                            "startup_probe": {"http_get": health, "period_seconds": 5, "failure_threshold": 36},
                            "readiness_probe": {"http_get": health, "period_seconds": 10, "timeout_seconds": 3},
                            "liveness_probe": {
                                "http_get": health,
                                "period_seconds": 20,
                                "timeout_seconds": 5,
                                "failure_threshold": 3,
                            },
                            "resources": i.resources or resources("500m", "1Gi", "2", "2Gi"),
                            "security_context": container_security(),
                            "volume_mounts": [
                                {"name": "tmp", "mount_path": "/tmp"},
                                {"name": "auth-config", "mount_path": "/etc/mlflow/auth", "read_only": True},
                            ],
                        }
                    ],
                    "volumes": [
                        tmp_volume(size="4Gi"),
                        {
                            "name": "auth-config",
                            "secret": {
                                "secret_name": self.settings.admin_password.secret,
                                "default_mode": 0o440,
                                "items": [{"key": "basic_auth.ini", "path": "basic_auth.ini"}],
                            },
                        },
                    ],
                },
            },
        }

    def _service_monitor(self, name: str, meta: dict) -> k8s.apiextensions.CustomResource:
        """Prometheus Operator scrape of /metrics, which basic auth protects like every other path."""
        auth = {"name": self.settings.admin_password.secret}
        return k8s.apiextensions.CustomResource(
            f"{name}-servicemonitor",
            api_version="monitoring.coreos.com/v1",
            kind="ServiceMonitor",
            metadata={"name": NAME, **meta},
            spec={
                "selector": {"matchLabels": labels(NAME)},
                "endpoints": [
                    {
                        "port": "http",
                        "path": "/metrics",
                        "interval": "30s",
                        "basicAuth": {
                            "username": {**auth, "key": "metrics-username"},
                            "password": {**auth, "key": self.settings.admin_password.key},
                        },
                    }
                ],
            },
            opts=pulumi.ResourceOptions(parent=self),
        )


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def _ingress_annotations(i: ServerInputs) -> dict[str, str]:
    annotations = {}
    if i.cluster_issuer:
        annotations["cert-manager.io/cluster-issuer"] = i.cluster_issuer
    if i.ingress_class == "nginx":
        annotations["nginx.ingress.kubernetes.io/proxy-body-size"] = "0"  # artifact uploads go through MLflow
        annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"] = "300"
    return annotations


def _ingress_spec(i: ServerInputs) -> dict:
    backend = {"service": {"name": SERVICE, "port": {"name": "http"}}}
    spec = {
        "ingress_class_name": i.ingress_class,
        "rules": [{"host": i.hostname, "http": {"paths": [{"path": "/", "path_type": "Prefix", "backend": backend}]}}],
        "tls": [{"hosts": [i.hostname], "secret_name": i.tls_secret or "mlflow-tls"}],
    }
    return spec
