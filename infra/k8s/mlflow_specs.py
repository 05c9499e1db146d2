"""Pod, Deployment, Job and Ingress specs of the MLflow server (plain data for pulumi-kubernetes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi

from infra.k8s.common import (
    CHECKSUM_ANNOTATION,
    DB_CLIENT,
    S3_CLIENT,
    container_security,
    env,
    labels,
    mebibytes,
    one_shot_job,
    pod_security,
    resources,
    selector,
    tmp_volume,
)
from infra.k8s.server_settings import POD_IP_ENV, PORT, SERVICE
from infra.server_command import (
    AUTH_BOOTSTRAP_PATH,
    METRICS_DIR,
    METRICS_PORT,
    EnvValue,
    ServerCommand,
    metrics_exporter_command,
    migrate_command,
)

NAME = "mlflow-server"
PRE_STOP_SECONDS = 10
TERMINATION_GRACE_SECONDS = 300
UID = 10001  # the mlflow user of infra/Dockerfile


@dataclass(frozen=True)
class ServerInputs:
    namespace: str
    image: str
    replicas: int
    max_replicas: int
    hostname: str
    ingress_class: str
    tls_secret: str
    cluster_issuer: str | None
    ingress_namespace: str
    monitoring_namespace: str
    bucket: str
    s3_endpoint_url: str | None
    service_monitor: bool
    service_monitor_labels: dict = field(default_factory=dict)
    tmp_size: str = "16Gi"
    route: str = "ingress"  # or "httproute" (Gateway API)
    gateway: str | None = None
    gateway_namespace: str | None = None
    migration_timeout_minutes: int = 60
    max_connections: int = 200  # PostgreSQL's: the pools are sized within it
    service_account_annotations: dict = field(default_factory=dict)  # e.g. IRSA / workload identity
    pod_annotations: dict = field(default_factory=dict)
    service_annotations: dict = field(default_factory=dict)
    node_selector: dict = field(default_factory=dict)
    tolerations: list = field(default_factory=list)
    resources: dict = field(default_factory=dict)  # overrides the default requests and limits


# pulumi-kubernetes waits this much longer for the Job than the Job may run: when Pulumi stops
# waiting, the Job has finished (Complete, or Failed with DeadlineExceeded), so `replaceUnready`
# never replaces a migration that is still running (tests/infra/pulumi_rules.py).
AWAIT_MARGIN_MINUTES = 10


def migration_timeouts(minutes: int) -> pulumi.CustomTimeouts:
    wait = f"{minutes + AWAIT_MARGIN_MINUTES}m"
    return pulumi.CustomTimeouts(create=wait, update=wait)


def migration_job(
    image: str, job_env: dict[str, EnvValue], secrets_checksum: pulumi.Input[str], timeout_minutes: int = 60
) -> dict[str, Any]:
    """`mlflow db upgrade`, then the auth database's migrations and accounts (infra/auth_bootstrap.py),
    within `timeout_minutes` (all attempts together)."""
    container = {
        "name": "migrate",
        "image": image,
        "command": list(migrate_command(AUTH_BOOTSTRAP_PATH)),
        "env": env({**job_env, "HOME": "/tmp"}),
        "resources": resources("100m", "256Mi", "1", "1Gi"),
    }
    job = one_shot_job("mlflow-db-migrate", (DB_CLIENT,), UID, container, 3, secrets_checksum)
    return {**job, "active_deadline_seconds": timeout_minutes * 60}


# The server's Prometheus files (--expose-prometheus): a volume of their own, shared read-only with
# the sidecar, so the directory exists before either container starts (the sidecar's root and
# mounts are read-only: it cannot create it, and MLflow creates it only once it runs).
METRICS_VOLUME = "metrics"
METRICS_SIZE = "64Mi"


def server_resources(i: ServerInputs) -> dict[str, Any]:
    """The operator's requests and limits (mlflowResources), with ephemeral-storage sized to /tmp
    and the metric files unless they set it."""
    scratch = f"{mebibytes(i.tmp_size) + mebibytes(METRICS_SIZE)}Mi"
    sized = resources("500m", "1Gi", "2", "2Gi", scratch=scratch)
    given = i.resources or {}
    out = {}
    for kind in ("requests", "limits"):
        chosen = given.get(kind) or {k: v for k, v in sized[kind].items() if k != "ephemeral-storage"}
        out[kind] = {**chosen, "ephemeral-storage": chosen.get("ephemeral-storage", sized[kind]["ephemeral-storage"])}
    return out


def _container(i: ServerInputs, command: ServerCommand, auth_dir: str) -> dict[str, Any]:
    health = {"path": "/health", "port": "http"}
    pod_ip = {"name": POD_IP_ENV, "value_from": {"field_ref": {"field_path": "status.podIP"}}}
    return {
        "name": "mlflow",
        "image": i.image,
        "command": list(command.args),
        # POD_IP first: the kubelet expands $(POD_IP) in the command (--allowed-hosts) from it.
        "env": [pod_ip, *env({**command.env, "HOME": "/tmp"})],
        "ports": [{"name": "http", "container_port": PORT}],
        "startup_probe": {"http_get": health, "period_seconds": 5, "failure_threshold": 36},
        "readiness_probe": {"http_get": health, "period_seconds": 10, "timeout_seconds": 3},
        "liveness_probe": {"http_get": health, "period_seconds": 20, "timeout_seconds": 5, "failure_threshold": 3},
        "resources": server_resources(i),
        "security_context": container_security(),
        # Endpoints are removed asynchronously: keep serving a few seconds after the pod is marked
        # terminating, so the Service and the ingress stop sending before the server stops (502s).
        "lifecycle": {"pre_stop": {"sleep": {"seconds": PRE_STOP_SECONDS}}},
        "volume_mounts": [
            {"name": "tmp", "mount_path": "/tmp"},
            {"name": METRICS_VOLUME, "mount_path": METRICS_DIR},
            {"name": "auth-config", "mount_path": auth_dir, "read_only": True},
        ],
    }


def _metrics_sidecar(i: ServerInputs, exporter_env: dict[str, EnvValue]) -> dict[str, Any]:
    """infra/metrics_exporter.py: the server's metric files, read-only, for the scrape account."""
    return {
        "name": "metrics",
        "image": i.image,
        "command": list(metrics_exporter_command()),
        "env": env({**exporter_env, "HOME": "/tmp"}),
        "ports": [{"name": "metrics", "container_port": METRICS_PORT}],
        "readiness_probe": {"tcp_socket": {"port": "metrics"}, "period_seconds": 10},
        "liveness_probe": {"tcp_socket": {"port": "metrics"}, "period_seconds": 20, "failure_threshold": 3},
        "resources": resources("20m", "64Mi", "200m", "256Mi", scratch="0Mi"),
        "security_context": container_security(),
        "volume_mounts": [{"name": METRICS_VOLUME, "mount_path": METRICS_DIR, "read_only": True}],
    }


def _scheduling(i: ServerInputs) -> dict[str, Any]:
    return {
        "node_selector": i.node_selector,
        "tolerations": i.tolerations,
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
    }


def deployment_spec(
    i: ServerInputs,
    command: ServerCommand,
    exporter_env: dict[str, EnvValue],
    auth_secret: str,
    auth_dir: str,
    secrets_checksum: pulumi.Input[str],
) -> dict[str, Any]:
    """No `replicas`: the HorizontalPodAutoscaler owns the count. Setting it here too makes the next
    update fail with a field-ownership conflict on .spec.replicas once the HPA has scaled
    (pulumi-kubernetes issues 2491 and 2569)."""
    # No prometheus.io/scrape annotations: a scraper that follows them has no credentials, and the
    # metrics port answers 401 without the scrape account (the ServiceMonitor carries it).
    annotations = {**i.pod_annotations, CHECKSUM_ANNOTATION: secrets_checksum}
    auth_volume = {
        "name": "auth-config",
        "secret": {
            "secret_name": auth_secret,
            "default_mode": 0o440,
            "items": [{"key": "basic_auth.ini", "path": "basic_auth.ini"}],
        },
    }
    return {
        "revision_history_limit": 5,
        "selector": {"match_labels": selector(NAME)},
        "strategy": {"type": "RollingUpdate", "rolling_update": {"max_unavailable": 0, "max_surge": 1}},
        "template": {
            "metadata": {"labels": labels(NAME, **{DB_CLIENT: "true", S3_CLIENT: "true"}), "annotations": annotations},
            "spec": {
                "service_account_name": NAME,
                "automount_service_account_token": False,
                "security_context": pod_security(UID),
                # Time for transfers in flight to finish after SIGTERM (large artifacts go through MLflow).
                "termination_grace_period_seconds": TERMINATION_GRACE_SECONDS,
                **_scheduling(i),
                "containers": [_container(i, command, auth_dir), _metrics_sidecar(i, exporter_env)],
                "volumes": [tmp_volume(size=i.tmp_size), tmp_volume(METRICS_VOLUME, METRICS_SIZE), auth_volume],
            },
        },
    }


def ingress_annotations(i: ServerInputs) -> dict[str, str]:
    annotations = {}
    if i.cluster_issuer:
        annotations["cert-manager.io/cluster-issuer"] = i.cluster_issuer
    if i.ingress_class == "nginx":
        # Artifacts of any size go through MLflow: no body limit, and streamed both ways instead of
        # spooled to the controller's disk first (request and response buffering off).
        annotations["nginx.ingress.kubernetes.io/proxy-body-size"] = "0"
        annotations["nginx.ingress.kubernetes.io/proxy-request-buffering"] = "off"
        annotations["nginx.ingress.kubernetes.io/proxy-buffering"] = "off"
        annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"] = "300"
        annotations["nginx.ingress.kubernetes.io/proxy-send-timeout"] = "300"
    return annotations


def ingress_spec(i: ServerInputs) -> dict[str, Any]:
    backend = {"service": {"name": SERVICE, "port": {"name": "http"}}}
    return {
        "ingress_class_name": i.ingress_class,
        "rules": [{"host": i.hostname, "http": {"paths": [{"path": "/", "path_type": "Prefix", "backend": backend}]}}],
        "tls": [{"hosts": [i.hostname], "secret_name": i.tls_secret}],
    }


# cert-manager (pkg/issuer/acme/http/pod.go podLabels, http.go acmeSolverListenPort): the label every
# HTTP-01 solver pod carries, and the port its acmesolver listens on.
ACME_SOLVER_LABEL = "acme.cert-manager.io/http01-solver"
ACME_SOLVER_PORT = 8089


def acme_solver_policy_spec(ingress_namespace: str) -> dict[str, Any]:
    """The solver pods accept the ingress controller (or gateway) on the solver's port."""
    source = {"namespace_selector": {"match_labels": {"kubernetes.io/metadata.name": ingress_namespace}}}
    return {
        "pod_selector": {"match_labels": {ACME_SOLVER_LABEL: "true"}},
        "policy_types": ["Ingress"],
        "ingress": [{"from": [source], "ports": [{"protocol": "TCP", "port": ACME_SOLVER_PORT}]}],
    }


GATEWAY_API = "gateway.networking.k8s.io/v1"


def http_route_spec(i: ServerInputs) -> dict[str, Any]:
    """The Gateway API route: the Gateway's listener terminates TLS (and takes cert-manager's
    annotations); the route sends the host's every path to the Service. `timeouts.request: 0s`
    disables the route's request timeout (GEP-1742), so a long upload or download is not cut; the
    body size is the data plane's business (Envoy-based gateways stream bodies)."""
    parent: dict[str, Any] = {"name": i.gateway}
    if i.gateway_namespace:
        parent["namespace"] = i.gateway_namespace
    return {
        "parentRefs": [parent],
        "hostnames": [i.hostname],
        "rules": [
            {
                "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                "backendRefs": [{"name": SERVICE, "port": 80}],
                "timeouts": {"request": "0s"},
            }
        ],
    }
