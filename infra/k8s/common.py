"""Labels, security contexts, secret-aware env, checksums and storage sizing for every workload."""

from __future__ import annotations

import hashlib
from typing import Any

import pulumi

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


CHECKSUM_ANNOTATION = "mlflow-registry/secrets-checksum"
REPLACE_UNREADY = "pulumi.com/replaceUnready"  # pulumi-kubernetes: replace a failed Job on the next `up`
# Container logs and the (read-only) root's writable layer also count against a pod's
# ephemeral-storage limit: room for them beside the emptyDir volumes.
EPHEMERAL_OVERHEAD_MI = 512


def resources(cpu: str, memory: str, cpu_limit: str, memory_limit: str, scratch: str = "1Gi") -> dict[str, Any]:
    """Requests and limits; `scratch` is the size of the pod's disk-backed emptyDir volumes, so
    ephemeral-storage is requested (the scheduler finds room) and limited to fit them."""
    ephemeral = f"{mebibytes(scratch) + EPHEMERAL_OVERHEAD_MI}Mi"
    return {
        "requests": {"cpu": cpu, "memory": memory, "ephemeral-storage": ephemeral},
        "limits": {"cpu": cpu_limit, "memory": memory_limit, "ephemeral-storage": ephemeral},
    }


def mebibytes(quantity: str) -> int:
    """'16Gi' -> 16384; the binary suffixes only (what this program writes)."""
    for suffix, factor in (("Ti", 1024 * 1024), ("Gi", 1024), ("Mi", 1)):
        if quantity.endswith(suffix):
            return int(quantity[: -len(suffix)]) * factor
    raise ValueError(f"{quantity!r}: use Mi, Gi or Ti")


def tmp_volume(name: str = "tmp", size: str = "1Gi") -> dict[str, Any]:
    return {"name": name, "empty_dir": {"size_limit": size}}


def checksum(*values: pulumi.Input[str]) -> pulumi.Output[str]:
    """sha256 of secret values, for a pod template annotation: the pods restart (and a Job is
    replaced) when a Secret they read changes. A one-way hash of generated passwords: not secret."""
    digest = pulumi.Output.all(*values).apply(
        lambda parts: hashlib.sha256("\0".join(str(p) for p in parts).encode()).hexdigest()
    )
    return pulumi.Output.unsecret(digest)


def content_name(prefix: str, *parts: pulumi.Input[str]) -> pulumi.Output[str]:
    """`prefix-<hash>`: a Job's pod template is immutable, so a Job whose template changes must get
    a new name (Pulumi then creates the new Job and deletes the old one)."""
    return checksum(*parts).apply(lambda digest: f"{prefix}-{digest[:10]}")


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


def job_metadata(name: pulumi.Input[str], namespace: str, component: str) -> dict[str, Any]:
    """A failed Job stays failed, and Pulumi would wait on it again: replace it when unready."""
    return {
        "name": name,
        "namespace": namespace,
        "labels": labels(component),
        "annotations": {REPLACE_UNREADY: "true"},
    }


def one_shot_job(
    component: str,
    client_labels: tuple[str, ...],
    uid: int,
    container: dict[str, Any],
    backoff: int,
    secrets_checksum: pulumi.Input[str],
    restart_policy: str = "Never",
) -> dict[str, Any]:
    """A Job whose one restricted container writes only to /tmp; `client_labels` let it through
    NetworkPolicies; the checksum of the secrets it reads is on its pod template."""
    container = {
        **container,
        "security_context": container_security(),
        "volume_mounts": [{"name": "tmp", "mount_path": "/tmp"}],
    }
    return {
        "backoff_limit": backoff,
        "template": {
            "metadata": {
                "labels": labels(component, **dict.fromkeys(client_labels, "true")),
                "annotations": {CHECKSUM_ANNOTATION: secrets_checksum},
            },
            "spec": {
                "restart_policy": restart_policy,
                "automount_service_account_token": False,
                "security_context": pod_security(uid),
                "containers": [container],
                "volumes": [tmp_volume()],
            },
        },
    }
