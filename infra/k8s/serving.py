"""Per served model: a Deployment running MLflow's scoring server on the version the file pins, a
Service, a PodDisruptionBudget and the NetworkPolicies (infra/serving.py picks and checks them).

The init container downloads `models:/<name>/<version>` through the tracking server's artifact
proxy into an emptyDir, with a read-only MLflow user's credentials from a Secret; the scoring
container serves that directory and holds no credentials. The version is in the pod template, so
a changed pin rolls the Deployment and every replica of a template serves the same version.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from infra.k8s.common import container_security, env, labels, pod_security, resources, selector, tmp_volume
from infra.k8s.server_settings import PORT as TRACKING_PORT
from infra.k8s.server_settings import SERVICE as TRACKING_SERVICE
from infra.server_command import SecretRef
from infra.serving import Workload
from reconciler.serving.commands import FETCH_ENV, MODEL_DIR, SCORING_PORT, Pinned, download_command, serve_command

UID = 10001  # the mlflow user of infra/serving-image/Dockerfile
SERVING = "mlflow-registry/serving"  # every scoring pod: excluded from the namespace's open egress
MODEL_LABEL = "mlflow-registry/model"
VERSION_ANNOTATION = "mlflow-registry/served-version"
MODEL_SIZE = "4Gi"  # the emptyDir the artifacts are downloaded into
TRACKING_SERVER = "mlflow-server"  # the tracking server pods' app.kubernetes.io/name
NAMESPACE_LABEL = "kubernetes.io/metadata.name"


def workload_name(model: str) -> str:
    """A DNS-1123 name for a registered model's workload: `serve-<model>` when the model's name is one,
    else a readable slug and a hash of the name (two names never share a workload)."""
    slug = re.sub(r"[^a-z0-9]+", "-", model.lower()).strip("-")[:40].strip("-")
    if slug != model:
        slug = f"{slug}-{hashlib.sha256(model.encode()).hexdigest()[:8]}".lstrip("-")
    return f"serve-{slug}"


def _init_container(w: Workload, tracking_uri: str, secret: str) -> dict[str, Any]:
    fetch_env = {
        "HOME": "/tmp",
        **FETCH_ENV,
        "MLFLOW_TRACKING_URI": tracking_uri,
        "MLFLOW_TRACKING_USERNAME": SecretRef(secret, "username"),
        "MLFLOW_TRACKING_PASSWORD": SecretRef(secret, "password"),
    }
    return {
        "name": "fetch-model",
        "image": w.image,
        "command": download_command(Pinned(w.served.model, w.served.version)),
        "env": env(fetch_env),
        "resources": resources("100m", "256Mi", "1", "512Mi", scratch=MODEL_SIZE),
        "security_context": container_security(),
        "volume_mounts": [{"name": "model", "mount_path": MODEL_DIR}, {"name": "tmp", "mount_path": "/tmp"}],
    }


def _scoring_container(w: Workload) -> dict[str, Any]:
    s = w.served
    ping = {"http_get": {"path": "/ping", "port": "http"}}
    return {
        "name": "scoring",
        "image": w.image,
        "command": serve_command(),
        "env": env({"HOME": "/tmp"}),
        "ports": [{"name": "http", "container_port": SCORING_PORT}],
        "readiness_probe": {**ping, "period_seconds": 5, "failure_threshold": 2},
        "liveness_probe": {**ping, "period_seconds": 20, "timeout_seconds": 5, "failure_threshold": 3},
        "startup_probe": {**ping, "period_seconds": 5, "failure_threshold": 60},
        "resources": resources(s.cpu, s.memory, s.cpu, s.memory, scratch="1Gi"),
        "security_context": container_security(),
        "volume_mounts": [
            {"name": "model", "mount_path": MODEL_DIR, "read_only": True},
            {"name": "tmp", "mount_path": "/tmp"},
        ],
    }


def deployment_spec(w: Workload, name: str, tracking_uri: str, secret: str) -> dict[str, Any]:
    s = w.served
    pod_labels = labels(name, **{SERVING: "true", MODEL_LABEL: name})
    return {
        "replicas": s.replicas,
        "revision_history_limit": 5,
        "selector": {"match_labels": selector(name)},
        "strategy": {"type": "RollingUpdate", "rolling_update": {"max_unavailable": 0, "max_surge": 1}},
        "template": {
            "metadata": {
                "labels": pod_labels,
                "annotations": {VERSION_ANNOTATION: str(s.version), "mlflow-registry/model-uri": s.model_uri},
            },
            "spec": {
                "automount_service_account_token": False,
                "enable_service_links": False,
                "security_context": pod_security(UID),
                "init_containers": [_init_container(w, tracking_uri, secret)],
                "containers": [_scoring_container(w)],
                "volumes": [tmp_volume("model", MODEL_SIZE), tmp_volume()],
            },
        },
    }


def ingress_policy_spec(w: Workload, name: str) -> dict[str, Any]:
    """The scoring port, from the namespaces the model file allows and nothing else."""
    peers = [{"namespace_selector": {"match_labels": {NAMESPACE_LABEL: ns}}} for ns in w.served.ingress_namespaces]
    rules = [{"from": peers, "ports": [{"protocol": "TCP", "port": SCORING_PORT}]}] if peers else []
    return {"pod_selector": {"match_labels": selector(name)}, "policy_types": ["Ingress"], "ingress": rules}


def egress_policy_spec(name: str) -> dict[str, Any]:
    """The tracking server's pods (artifact downloads) and the cluster DNS, nothing else."""
    dns = {
        "to": [
            {
                "namespace_selector": {"match_labels": {NAMESPACE_LABEL: "kube-system"}},
                "pod_selector": {"match_labels": {"k8s-app": "kube-dns"}},
            }
        ],
        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
    }
    tracking = {
        "to": [{"pod_selector": {"match_labels": selector(TRACKING_SERVER)}}],
        "ports": [{"protocol": "TCP", "port": TRACKING_PORT}],
    }
    return {"pod_selector": {"match_labels": selector(name)}, "policy_types": ["Egress"], "egress": [tracking, dns]}


class ServedModel(pulumi.ComponentResource):
    def __init__(self, w: Workload, namespace: str, secret: str, opts: pulumi.ResourceOptions | None = None):
        name = workload_name(w.served.model)
        super().__init__("mlflow-registry:k8s:ServedModel", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        meta = {"name": name, "namespace": namespace, "labels": labels(name, **{MODEL_LABEL: name})}
        tracking_uri = f"http://{TRACKING_SERVICE}.{namespace}.svc.cluster.local"
        self.deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment", metadata=meta, spec=deployment_spec(w, name, tracking_uri, secret), opts=child
        )
        self.service = k8s.core.v1.Service(
            f"{name}-service",
            metadata=meta,
            spec={"selector": selector(name), "ports": [{"name": "http", "port": 80, "target_port": "http"}]},
            opts=child,
        )
        budget = {"min_available": 1} if w.served.replicas > 1 else {"max_unavailable": 1}
        self.disruption_budget = k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb", metadata=meta, spec={**budget, "selector": {"match_labels": selector(name)}}, opts=child
        )
        self.ingress_policy = k8s.networking.v1.NetworkPolicy(
            f"{name}-ingress",
            metadata={**meta, "name": f"{name}-ingress"},
            spec=ingress_policy_spec(w, name),
            opts=child,
        )
        self.egress_policy = k8s.networking.v1.NetworkPolicy(
            f"{name}-egress", metadata={**meta, "name": f"{name}-egress"}, spec=egress_policy_spec(name), opts=child
        )
        self.register_outputs({"service": self.service.metadata.name})
