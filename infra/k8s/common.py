"""Labels, security contexts and secret-aware env for every Kubernetes workload."""

from __future__ import annotations

from typing import Any

from infra.server_command import EnvValue, SecretRef

PART_OF = "mlflow-registry"
DB_CLIENT = "mlflow-registry/db-client"  # pods allowed to reach PostgreSQL
S3_CLIENT = "mlflow-registry/s3-client"  # pods allowed to reach MinIO


def labels(component: str, **extra: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": component,
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": "pulumi",
        **extra,
    }


def selector(component: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": component, "app.kubernetes.io/part-of": PART_OF}


def container_security(read_only_root: bool = True) -> dict[str, Any]:
    """The 'restricted' Pod Security Standard, for every container."""
    return {
        "allow_privilege_escalation": False,
        "read_only_root_filesystem": read_only_root,
        "run_as_non_root": True,
        "capabilities": {"drop": ["ALL"]},
        "seccomp_profile": {"type": "RuntimeDefault"},
    }


def pod_security(uid: int) -> dict[str, Any]:
    return {
        "run_as_non_root": True,
        "run_as_user": uid,
        "run_as_group": uid,
        "fs_group": uid,
        "seccomp_profile": {"type": "RuntimeDefault"},
    }


def env(values: dict[str, EnvValue]) -> list[dict[str, Any]]:
    """Container env; a SecretRef becomes a secretKeyRef, so no secret value is in the manifest."""
    out = []
    for name, value in sorted(values.items()):
        if isinstance(value, SecretRef):
            out.append({"name": name, "value_from": {"secret_key_ref": {"name": value.secret, "key": value.key}}})
        else:
            out.append({"name": name, "value": value})
    return out


def resources(cpu: str, memory: str, cpu_limit: str, memory_limit: str) -> dict[str, Any]:
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": cpu_limit, "memory": memory_limit}}


def tmp_volume(name: str = "tmp", size: str = "1Gi") -> dict[str, Any]:
    return {"name": name, "empty_dir": {"size_limit": size}}


def single_pod_stateful_set(
    name: str,
    uid: int,
    container: dict[str, Any],
    volumes: list[dict[str, Any]],
    storage: str,
    storage_class: str | None,
) -> dict[str, Any]:
    """A one-replica StatefulSet whose `data` volume claim survives the pod (PostgreSQL, MinIO)."""
    claim: dict[str, Any] = {"access_modes": ["ReadWriteOnce"], "resources": {"requests": {"storage": storage}}}
    if storage_class:
        claim["storage_class_name"] = storage_class
    return {
        "service_name": name,
        "replicas": 1,
        "selector": {"match_labels": selector(name)},
        "template": {
            "metadata": {"labels": labels(name)},
            "spec": {
                "automount_service_account_token": False,
                "security_context": pod_security(uid),
                "containers": [container],
                "volumes": volumes,
            },
        },
        "volume_claim_templates": [{"metadata": {"name": "data"}, "spec": claim}],
    }


def ingress_only_from(component: str, port: int, sources: list[dict[str, Any]]) -> dict[str, Any]:
    """NetworkPolicy spec: `component`'s pods accept TCP on `port` from `sources` only."""
    return {
        "pod_selector": {"match_labels": selector(component)},
        "policy_types": ["Ingress"],
        "ingress": [{"from": sources, "ports": [{"protocol": "TCP", "port": port}]}],
    }


def pods_labelled(label: str) -> list[dict[str, Any]]:
    return [{"pod_selector": {"match_labels": {label: "true"}}}]


def one_shot_job(
    component: str, client_label: str, uid: int, container: dict[str, Any], backoff: int, restart_policy: str = "Never"
) -> dict[str, Any]:
    """A Job whose one restricted container writes only to /tmp; `client_label` lets it through a NetworkPolicy."""
    container = {
        **container,
        "security_context": container_security(),
        "volume_mounts": [{"name": "tmp", "mount_path": "/tmp"}],
    }
    return {
        "backoff_limit": backoff,
        "template": {
            "metadata": {"labels": labels(component, **{client_label: "true"})},
            "spec": {
                "restart_policy": restart_policy,
                "automount_service_account_token": False,
                "security_context": pod_security(uid),
                "containers": [container],
                "volumes": [tmp_volume()],
            },
        },
    }
