"""The MLflow tracking server + registry on Kubernetes, from infra.server_command (the tested flags).

Highly available: >= 2 replicas of one uvicorn worker each (the HPA owns the count), rolling
updates with no unavailable pod, spread across nodes, a PodDisruptionBudget. Migrations (the
tracking database's and the auth database's) run in a Job that must finish before the Deployment
rolls. Basic auth with users in PostgreSQL; artifacts proxied to the bucket; Prometheus scrapes
/metrics with a non-admin account.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

from infra import secrets
from infra.k8s.common import checksum, content_name, ingress_only_from, job_metadata, labels, selector
from infra.k8s.mlflow_specs import (
    GATEWAY_API,
    NAME,
    ServerInputs,
    acme_solver_policy_spec,
    deployment_spec,
    http_route_spec,
    ingress_annotations,
    ingress_spec,
    migration_job,
    migration_timeouts,
)
from infra.k8s.server_settings import PORT, SERVICE, k8s_server_settings
from infra.server_command import (
    AUTH_CONFIG_PATH,
    METRICS_PORT,
    MetricsAccount,
    SecretRef,
    auth_config_ini,
    metrics_exporter_env,
    migrate_env,
    server_command,
)

__all__ = ["NAME", "SERVICE", "MlflowServer", "ServerInputs"]
BeforeMigration = Callable[[pulumi.Output[str], pulumi.Resource], list[pulumi.Resource]]
AUTH_DB = SecretRef("mlflow-auth", "database-uri")


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
        before_migration: BeforeMigration | None = None,
    ):
        """`before_migration`: called with the migration Job's name, returns what the Job waits for
        (CloudNativePG: an on-demand backup, so a failed upgrade can be rolled back)."""
        super().__init__("mlflow-registry:k8s:MlflowServer", name, None, opts)
        self.before_migration = before_migration
        self.settings = k8s_server_settings(
            i.namespace,
            i.hostname,
            i.bucket,
            i.s3_endpoint_url,
            static_s3_keys=s3_access_key is not None,
            max_connections=i.max_connections,
            max_replicas=max(i.max_replicas, i.replicas),
        )
        self.command = server_command(self.settings)
        self.metrics = MetricsAccount()
        self.admin_password = secrets.generated(f"{name}-admin-password", self)
        meta = {"namespace": i.namespace, "labels": labels(NAME)}
        values = self._secrets(name, meta, db_uri, auth_db_uri, s3_access_key, s3_secret_key)
        self.service_account = k8s.core.v1.ServiceAccount(
            f"{name}-sa",
            metadata={"name": NAME, **meta, "annotations": i.service_account_annotations},
            automount_service_account_token=False,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self._workloads(name, i, meta, values)
        self._edge(name, i, meta)
        self.register_outputs({"service": self.service.metadata.name})

    def _secrets(self, name, meta, db_uri, auth_db_uri, s3_access_key, s3_secret_key) -> dict[str, pulumi.Input[str]]:
        s, child = self.settings, pulumi.ResourceOptions(parent=self)
        values: dict[str, pulumi.Input[str]] = {
            "db": db_uri,
            "auth-db": auth_db_uri,
            "admin": self.admin_password,
            "metrics": secrets.generated(f"{name}-metrics-password", self),
            "flask": secrets.generated(f"{name}-flask-secret-key", self, 48),
        }
        self.db_secret = k8s.core.v1.Secret(
            f"{name}-db",
            metadata={"name": s.backend_store_uri.secret, **meta},
            string_data={s.backend_store_uri.key: db_uri},
            opts=child,
        )
        self.s3_secret = None
        if s.s3_access_key and s.s3_secret_key and s3_access_key is not None and s3_secret_key is not None:
            values.update({"s3-access": s3_access_key, "s3-secret": s3_secret_key})
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
                s.admin_password.key: values["admin"],
                s.flask_secret_key.key: values["flask"],
                "metrics-username": self.metrics.username,
                self.metrics.password.key: values["metrics"],
                AUTH_DB.key: auth_db_uri,
                "basic_auth.ini": pulumi.Output.from_input(auth_db_uri).apply(auth_config_ini),
            },
            opts=child,
        )
        return values

    def _workloads(self, name: str, i: ServerInputs, meta: dict, values: dict[str, pulumi.Input[str]]) -> None:
        job_checksum = checksum(values["db"], values["auth-db"], values["admin"])
        # A new name for every new template (image, secrets): a Job's template is immutable.
        job_name = content_name("mlflow-db-migrate", i.image, job_checksum)
        self.pre_migration = self.before_migration(job_name, self) if self.before_migration else []
        self.migration = k8s.batch.v1.Job(
            f"{name}-migrate",
            metadata=job_metadata(job_name, i.namespace, NAME),
            spec=migration_job(i.image, migrate_env(self.settings, AUTH_DB), job_checksum, i.migration_timeout_minutes),
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[self.db_secret, self.auth_secret, *self.pre_migration],
                custom_timeouts=migration_timeouts(i.migration_timeout_minutes),
            ),
        )
        pod_checksum = checksum(*(values[k] for k in sorted(values)))
        self.deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata={"name": NAME, **meta},
            spec=deployment_spec(
                i,
                self.command,
                metrics_exporter_env(self.settings, self.metrics),
                self.settings.admin_password.secret,
                str(Path(AUTH_CONFIG_PATH).parent),
                pod_checksum,
            ),
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[r for r in (self.migration, self.auth_secret, self.s3_secret) if r]
            ),
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
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.deployment]),
        )
        self.disruption_budget = k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb",
            metadata={"name": NAME, **meta},
            spec={"min_available": 1, "selector": {"match_labels": selector(NAME)}},
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _edge(self, name: str, i: ServerInputs, meta: dict) -> None:
        child = pulumi.ResourceOptions(parent=self)
        self.service = k8s.core.v1.Service(
            f"{name}-service",
            metadata={"name": SERVICE, **meta, "annotations": i.service_annotations},
            spec={
                "selector": selector(NAME),
                "ports": [
                    {"name": "http", "port": 80, "target_port": "http"},
                    {"name": "metrics", "port": METRICS_PORT, "target_port": "metrics"},
                ],
            },
            opts=child,
        )
        self.ingress: pulumi.Resource
        if i.route == "httproute":
            self.ingress = k8s.apiextensions.CustomResource(
                f"{name}-httproute",
                api_version=GATEWAY_API,
                kind="HTTPRoute",
                metadata={"name": SERVICE, **meta},
                spec=http_route_spec(i),
                opts=child,
            )
        else:
            self.ingress = k8s.networking.v1.Ingress(
                f"{name}-ingress",
                metadata={"name": SERVICE, **meta, "annotations": ingress_annotations(i)},
                spec=ingress_spec(i),
                opts=child,
            )
        namespace = "kubernetes.io/metadata.name"  # the label every namespace carries
        monitoring = {"namespace_selector": {"match_labels": {namespace: i.monitoring_namespace}}}
        spec = ingress_only_from(
            NAME,
            PORT,
            [  # the ingress controller, Prometheus, this namespace, and namespaces labelled as clients
                {"namespace_selector": {"match_labels": {namespace: i.ingress_namespace}}},
                monitoring,
                {"pod_selector": {}},
                {"namespace_selector": {"match_labels": {"mlflow-registry/client": "true"}}},
            ],
        )
        # The metrics sidecar: Prometheus only.
        spec["ingress"].append({"from": [monitoring], "ports": [{"protocol": "TCP", "port": METRICS_PORT}]})
        self.network_policy = k8s.networking.v1.NetworkPolicy(
            f"{name}-ingress-policy", metadata={"name": "mlflow-server-clients", **meta}, spec=spec, opts=child
        )
        # cert-manager's HTTP-01 solver pods, created in this namespace for the Ingress's host: the
        # ingress controller must reach them, or the default-deny policy blocks the challenge.
        self.acme_solver_policy = k8s.networking.v1.NetworkPolicy(
            f"{name}-acme-solver-policy",
            metadata={"name": "acme-http01-solver", **meta},
            spec=acme_solver_policy_spec(i.ingress_namespace),
            opts=child,
        )
        self.service_monitor = (
            self._service_monitor(name, meta, i.service_monitor_labels) if i.service_monitor else None
        )

    def _service_monitor(self, name: str, meta: dict, extra_labels: dict) -> k8s.apiextensions.CustomResource:
        """Prometheus Operator scrape of the metrics sidecar, with the scrape account (not an MLflow user)."""
        auth = {"name": self.settings.admin_password.secret}
        return k8s.apiextensions.CustomResource(
            f"{name}-servicemonitor",
            api_version="monitoring.coreos.com/v1",
            kind="ServiceMonitor",
            metadata={"name": NAME, **meta, "labels": {**meta["labels"], **extra_labels}},
            spec={
                "selector": {"matchLabels": labels(NAME)},
                "endpoints": [
                    {
                        "port": "metrics",
                        "path": "/metrics",
                        "interval": "30s",
                        "basicAuth": {
                            "username": {**auth, "key": "metrics-username"},
                            "password": {**auth, "key": self.metrics.password.key},
                        },
                    }
                ],
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
