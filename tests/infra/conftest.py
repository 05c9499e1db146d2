"""Stacks run once per session under Pulumi's mocks (each run is a subprocess: ~1 s)."""

from __future__ import annotations

import pytest

from tests.infra.harness import Run, run_stack

MINIO_IMAGE = "ghcr.io/acme/mlflow-registry-minio:2026-02-11-7aac2a2"
# The in-cluster object store instead of the prod file's external S3 (small setups).
IN_CLUSTER_MINIO = {"externalS3": "false", "minioImage": MINIO_IMAGE}


@pytest.fixture(scope="session")
def prod() -> Run:
    """Pulumi.prod.yaml as committed: CloudNativePG, artifacts and backups on S3 (pod identities)."""
    return run_stack("prod")


@pytest.fixture(scope="session")
def prod_minio() -> Run:
    """CloudNativePG with its backups on the in-cluster MinIO."""
    return run_stack("prod", extra={**IN_CLUSTER_MINIO, "serviceMonitor": "true"})


@pytest.fixture(scope="session")
def small() -> Run:
    """The small setup: one PostgreSQL StatefulSet pod, in-cluster MinIO."""
    return run_stack("prod", extra={**IN_CLUSTER_MINIO, "postgresEngine": "statefulset"})


@pytest.fixture(scope="session")
def local() -> Run:
    return run_stack("local")


def containers(obj: dict) -> list[dict]:
    spec = obj["spec"]["template"]["spec"] if obj["kind"] != "Pod" else obj["spec"]
    return spec.get("initContainers", []) + spec["containers"]


def workloads(run: Run) -> list[dict]:
    return [o for o in run.k8s_objects() if o["kind"] in ("Deployment", "StatefulSet", "Job")]


def named(run: Run, kind: str, name: str) -> dict:
    (found,) = [o for o in run.k8s(kind) if o["metadata"]["name"] == name]
    return found


def migration_job(run: Run) -> dict:
    (job,) = [o for o in run.k8s("Job") if o["metadata"]["name"].startswith("mlflow-db-migrate-")]
    return job


def server_container(run: Run) -> dict:
    """The MLflow container of the server Deployment (beside it: the metrics sidecar)."""
    (deployment,) = [o for o in run.k8s("Deployment") if o["metadata"]["name"] == "mlflow-server"]
    (c,) = [c for c in containers(deployment) if c["name"] == "mlflow"]
    return c
