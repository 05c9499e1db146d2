"""Rules the Docker engine and pulumi-docker enforce at `pulumi up`, which Pulumi's mocks do not,
mirrored offline on the Docker program."""

from __future__ import annotations

import pytest

from infra.postgres_password import SOCKET_DIR
from tests.infra.harness import Run, run_stack

pytestmark = pytest.mark.infra

ONE_SHOTS = ("mlflow-postgres-password", "mlflow-minio-bucket", "mlflow-db-migrate")


def read_only_root_copy_violations(container: dict) -> list[str]:
    """moby (daemon/archive.go): copying into a container whose root file system is read-only is
    refused ("container rootfs is marked read-only") unless the destination is inside a volume
    mounted writable; a tmpfs does not exist before the container starts, when uploads happen."""
    if not container.get("readOnly"):
        return []
    writable = [v["containerPath"].rstrip("/") + "/" for v in container.get("volumes", []) if not v.get("readOnly")]
    return [u["file"] for u in container.get("uploads", []) if not any(u["file"].startswith(path) for path in writable)]


def test_uploads_into_read_only_containers_land_in_writable_volumes(local: Run):
    containers = local.containers()
    assert containers["mlflow-server"]["readOnly"] is True and containers["mlflow-server"]["uploads"]
    for name, container in containers.items():
        assert read_only_root_copy_violations(container) == [], name


def test_the_rule_refuses_the_old_upload():
    old = {"readOnly": True, "tmpfs": {"/tmp": "rw"}, "uploads": [{"file": "/etc/mlflow/auth/basic_auth.ini"}]}
    assert read_only_root_copy_violations(old) == ["/etc/mlflow/auth/basic_auth.ini"]
    mounted_read_only = {**old, "volumes": [{"containerPath": "/etc/mlflow/auth", "readOnly": True}]}
    assert read_only_root_copy_violations(mounted_read_only) == ["/etc/mlflow/auth/basic_auth.ini"]


def test_named_containers_are_deleted_before_they_are_replaced(local: Run):
    """Docker refuses a second container with a name in use, and Pulumi creates a replacement
    before deleting the old resource unless told otherwise."""
    for name, container in local.containers().items():
        assert container["_options"]["deleteBeforeReplace"], name


def test_one_shot_containers_run_once_and_are_waited_for(local: Run):
    containers = local.containers()
    for name in ONE_SHOTS:
        c = containers[name]
        assert (c["mustRun"], c["attach"], c["restart"], c["wait"]) == (False, True, "no", False), name


@pytest.mark.parametrize(
    ("failing", "message", "not_created"),
    [
        (
            "mlflow-db-migrate",
            "the database migrations (mlflow db upgrade) exited with code 1",
            {"mlflow-server"},
        ),
        (
            "mlflow-minio-bucket",
            "creating the bucket and the MLflow MinIO user exited with code 1",
            {"mlflow-server"},
        ),
        ("mlflow-postgres-password", "setting the PostgreSQL password exited with code 1", {"mlflow-db-migrate"}),
    ],
)
def test_a_failed_one_shot_fails_the_up_and_nothing_that_needs_it_is_created(failing, message, not_created):
    failed = run_stack("local", exit_codes={failing: 1}, expect_failure=True)
    assert message in failed.error
    assert f"read `docker logs {failing}`" in failed.error and "pulumi up --replace" in failed.error
    created = {r["inputs"]["name"] for r in failed.of_type("docker:index/container:Container")}
    assert failing in created and not (not_created & created)


def test_postgres_health_check_waits_for_tcp(local: Run):
    """While the image initialises a new volume, a temporary server listens on the socket only:
    a health check over the socket passes before the migration container can connect."""
    test = local.containers()["mlflow-postgres"]["healthcheck"]["tests"]
    assert test[:2] == ["CMD", "pg_isready"] and test[test.index("-h") + 1] == "127.0.0.1"


def test_password_is_applied_over_the_shared_socket(local: Run):
    containers = local.containers()
    socket = {v["volumeName"] for v in containers["mlflow-postgres"]["volumes"] if v["containerPath"] == SOCKET_DIR}
    setter = containers["mlflow-postgres-password"]
    assert socket and {v["volumeName"] for v in setter["volumes"]} == socket
    assert any(e.startswith("POSTGRES_PASSWORD=") for e in setter["envs"])
