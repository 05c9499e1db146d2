"""The Docker stack's containers run in order as the engine would run them, each with exactly the
command, environment, user, read-only root and volumes its resource gives it (read from the
program under mocks; tests/infra/docker_engine.py, tests/support/sandbox.py), on one network where the
containers' aliases resolve: PostgreSQL initialised as the official image does, the one-shot that
sets its password, the bucket one-shot (the `mc` stub; its `mb` calls then made on moto, which
serves MinIO's S3 API on :9000), the migration one-shot, and the server, its health check run
inside it. What the engine would refuse (an upload into a read-only root) fails here too."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from infra.postgres_password import SOCKET_DIR
from infra.server_command import AUTH_CONFIG_PATH
from tests.infra import docker_engine, image_layers
from tests.infra.harness import Run, run_stack
from tests.integration import emulated
from tests.support.sandbox import Container, network, published, volume_dir

pytestmark = pytest.mark.integration

HOST = "localhost:5000"  # the Host a client of the published port sends (tracking_uri)


def env_of(container: dict) -> dict[str, str]:
    return dict(e.split("=", 1) for e in container["envs"])


def mc_buckets(stderr: str) -> list[str]:
    calls = [json.loads(line.split(": ", 1)[1]) for line in stderr.splitlines() if line.startswith("mc-stub: ")]
    return [t.split("/", 1)[1] for c in calls if c["cmd"] == "mb" for t in c["targets"]]


def health_check(server: Container, test: list[str]) -> Container:
    """The health check runs in the container (its namespaces, user, mounts, env)."""
    assert test[0] == "CMD"
    return Container(test[1:], server.env, server.image, server.user, server.read_only_root, server.volumes,
                     server.hosts, server.net)  # fmt: skip


@dataclass
class Stack:
    run: Run
    volumes: dict[str, Path]
    url: str
    admin_password: str
    migration: object
    password_set: object


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    run = run_stack("local")
    c = run.containers()
    root = Path(tempfile.mkdtemp(prefix="mlflow-gitops-docker-stack-"))  # not pytest's: PostgreSQL runs as postgres
    root.chmod(0o755)
    volumes = {
        v["inputs"]["name"]: volume_dir(root, v["inputs"]["name"]) for v in run.of_type("docker:index/volume:Volume")
    }
    hosts = {a: "127.0.0.1" for x in c.values() for n in x.get("networksAdvanced", []) for a in n.get("aliases", [])}
    with contextlib.ExitStack() as ctx:
        ctx.callback(shutil.rmtree, root, True)
        net = ctx.enter_context(network())
        pg, pg_env = c["mlflow-postgres"], env_of(c["mlflow-postgres"])
        socket = volumes["mlflow-postgres-socket"]
        docker_engine.populate_volume(socket, image_layers.POSTGRES, SOCKET_DIR)
        (init,) = pg["uploads"]
        ctx.enter_context(
            emulated.postgres(
                net, volumes["mlflow-postgres-data"], socket, pg_env["POSTGRES_USER"], pg_env["POSTGRES_PASSWORD"],
                {pg_env["POSTGRES_DB"]: pg_env["POSTGRES_USER"]}, init["content"],
            )
        )  # fmt: skip
        # Without its upload: the init script lies in /docker-entrypoint-initdb.d, a directory the
        # host's root lacks (the sandbox overlays existing directories only); the check reads nothing there.
        checked = {**pg, "uploads": []}
        pg_health = health_check(docker_engine.sandboxed(checked, image_layers.POSTGRES, volumes, net, hosts),
                                 pg["healthcheck"]["tests"]).run()  # fmt: skip
        assert pg_health.returncode == 0, pg_health.stderr
        # network_mode "none": a network of its own, with nothing in it; the socket volume only.
        setter_net = ctx.enter_context(network())
        password_set = docker_engine.sandboxed(c["mlflow-postgres-password"], image_layers.POSTGRES, volumes,
                                               setter_net).run()  # fmt: skip
        s3_port = ctx.enter_context(emulated.s3(net, root))
        bucket = docker_engine.sandboxed(c["mlflow-minio-bucket"], image_layers.MINIO, volumes,
                                         net, hosts, entrypoint=image_layers.MINIO_ENTRYPOINT).run()  # fmt: skip
        assert bucket.returncode == 0, bucket.stderr[-2000:]
        emulated.create_buckets(s3_port, mc_buckets(bucket.stderr))
        migration = docker_engine.sandboxed(c["mlflow-db-migrate"], image_layers.MLFLOW, volumes, net, hosts).run()
        assert migration.returncode == 0, migration.stderr[-3000:]
        server = docker_engine.sandboxed(c["mlflow-server"], image_layers.MLFLOW, volumes, net, hosts)
        ctx.enter_context(server.started(root / "mlflow-server.log"))
        check = health_check(server, c["mlflow-server"]["healthcheck"]["tests"])
        deadline = time.monotonic() + 180
        while check.run().returncode != 0:
            assert time.monotonic() < deadline, (root / "mlflow-server.log").read_text()[-3000:]
            time.sleep(2)
        (port,) = c["mlflow-server"]["ports"]
        host_port = ctx.enter_context(published(net, port["internal"]))
        yield Stack(run, volumes, f"http://127.0.0.1:{host_port}", run.outputs["admin_password"], migration,
                    password_set)  # fmt: skip


def get(stack: Stack, path: str, auth: tuple[str, str] | None) -> requests.Response:
    return requests.get(stack.url + path, headers={"Host": HOST}, auth=auth, timeout=30)


def test_the_password_one_shot_sets_the_generated_password(stack):
    assert stack.password_set.returncode == 0, stack.password_set.stderr


def test_the_migration_writes_the_auth_config_for_the_servers_user_only(stack):
    assert "auth bootstrap: user 'admin' created" in stack.migration.stdout
    ini = stack.volumes["mlflow-server-auth-config"] / Path(AUTH_CONFIG_PATH).name
    info = ini.stat()
    assert (info.st_mode & 0o777, info.st_uid) == (0o600, image_layers.MLFLOW_UID)
    assert "database_uri = postgresql+psycopg://mlflow:" in ini.read_text()


def test_the_server_takes_the_generated_admin_password_only(stack):
    path = "/api/2.0/mlflow/users/get?username=admin"
    assert get(stack, path, ("admin", stack.admin_password)).status_code == 200
    assert get(stack, path, ("admin", "not-the-password")).status_code == 401
    assert get(stack, "/health", None).status_code == 200


def test_an_artifact_goes_through_the_server_to_the_bucket(stack):
    auth = ("admin", stack.admin_password)
    body = b"model bytes " + os.urandom(8).hex().encode()
    put = requests.put(
        stack.url + "/api/2.0/mlflow-artifacts/artifacts/docker-stack/model.bin",
        data=body,
        headers={"Host": HOST},
        auth=auth,
        timeout=60,
    )
    assert put.status_code == 200, put.text[:300]
    back = get(stack, "/api/2.0/mlflow-artifacts/artifacts/docker-stack/model.bin", auth)
    assert back.status_code == 200 and back.content == body
