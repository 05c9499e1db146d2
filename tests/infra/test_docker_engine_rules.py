"""Rules the Docker engine and pulumi-docker enforce at `pulumi up`, which Pulumi's mocks do not,
mirrored offline on the Docker program. The upload rule is tests/infra/docker_engine.py's (its
docstring names the provider's and the daemon's functions and the commits read)."""

from __future__ import annotations

import pytest

from infra.postgres_password import SOCKET_DIR
from tests.infra import docker_engine
from tests.infra.harness import Run, run_stack

pytestmark = pytest.mark.infra

ONE_SHOTS = ("mlflow-postgres-password", "mlflow-minio-bucket", "mlflow-db-migrate")


@pytest.mark.parametrize(
    "name",
    [
        "mlflow-postgres",
        "mlflow-postgres-password",
        "mlflow-minio",
        "mlflow-minio-bucket",
        "mlflow-db-migrate",
        "mlflow-server",
    ],
)
def test_every_container_is_created_as_the_provider_and_the_daemon_create_it(local: Run, name):
    """Each upload as the provider sends it (tar entry = the file's full path, extracted at `/`),
    answered as the daemon answers it (tests/infra/docker_engine.py: moby checkWritablePath)."""
    container = local.containers()[name]
    for request in docker_engine.copy_requests(container):
        assert request.dst_path == "/"
        assert docker_engine.extraction_refusal(container, request.dst_path) is None, request.entry
    assert not (container.get("readOnly") and container.get("uploads")), "a read-only root refuses every upload"


# The daemon's own tests (moby/moby b985e231), as (container, extraction point, answer):
DAEMON_CASES = [
    # integration-cli/docker_cli_cp_to_container_test.go TestCpToErrReadOnlyRootfs
    ({"readOnly": True}, "/root", "container rootfs is marked read-only"),
    # TestCpToErrReadOnlyVolume: defaultVolumes' /vol_ro is mounted :ro
    ({"volumes": [{"containerPath": "/vol_ro", "readOnly": True}]}, "/vol_ro", "mounted volume is marked read-only"),
    # docker_api_containers_test.go TestPutContainerArchiveErrSymlinkInVolumeToReadOnlyRootfs: the
    # symlink in the volume /vol2 resolves to a directory outside it (EvalSymlinks comes first)
    ({"readOnly": True, "volumes": [{"containerPath": "/vol2"}]}, "/", "container rootfs is marked read-only"),
    # the same container, extracting into the writable volume itself: allowed
    ({"readOnly": True, "volumes": [{"containerPath": "/vol2"}]}, "/vol2", None),
    ({"readOnly": False}, "/", None),
]


@pytest.mark.parametrize(("container", "point", "answer"), DAEMON_CASES)
def test_the_mirror_answers_as_the_daemons_own_tests(container, point, answer):
    assert docker_engine.extraction_refusal(container, point) == answer


def test_the_mirror_refuses_the_old_server_container():
    """The previous program's server: read-only, basic_auth.ini uploaded into a volume mounted on its
    directory. The provider extracts at `/`, which is in no volume: refused."""
    old = {
        "readOnly": True,
        "volumes": [
            {"volumeName": "tmp", "containerPath": "/tmp"},
            {"volumeName": "auth", "containerPath": "/etc/mlflow/auth"},
        ],
        "uploads": [{"file": "/etc/mlflow/auth/basic_auth.ini", "content": "[mlflow]\n", "permissions": "0444"}],
    }
    with pytest.raises(docker_engine.EngineRefused, match="container rootfs is marked read-only"):
        docker_engine.uploads(old)


def test_named_containers_are_deleted_before_they_are_replaced(local: Run):
    """Docker refuses a second container with a name in use (moby b985e231 daemon/errors.go:
    "Conflict. The container name ... is already in use"), and Pulumi creates a replacement
    before deleting the old resource unless told otherwise (deleteBeforeReplace)."""
    for name, container in local.containers().items():
        assert container["_options"]["deleteBeforeReplace"], name


def test_one_shot_containers_run_once_and_are_waited_for(local: Run):
    """terraform-provider-docker resourceDockerContainerCreate (83c00e0b): with `attach` it waits
    (ContainerWait, WaitConditionNotRunning) and then only records `exit_code`
    (resourceDockerContainerRead): the program fails the `up` on it (infra/local/common.py)."""
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


def test_containers_run_the_built_image_not_its_tag(local):
    """A rebuild under the same tag must replace the containers that run it: they name the image's
    ID (pulumi-docker's repoDigest of a local image), and `image` is ForceNew in the provider."""
    digests = {i["inputs"]["imageName"]: i for i in local.of_type("docker:index/image:Image")}
    rebuilt = run_stack("local", image_build="2").containers()
    for name, container in local.containers().items():
        if container["image"].startswith("sha256:0000"):  # the pulled postgres image (RemoteImage)
            continue
        assert container["image"].startswith("sha256:") and not any(container["image"] == t for t in digests), name
        assert rebuilt[name]["image"] != container["image"], name
