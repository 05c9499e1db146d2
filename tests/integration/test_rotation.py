"""Secret rotation against real services: the auth bootstrap (the migration Job) migrates the auth
database and resets the admin's password (tests/integration/test_server_flags.py shows the server
then accepts the new one), and the PostgreSQL password command sets a new password on a database
whose volume already exists."""

from __future__ import annotations

import contextlib
import functools
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from infra import auth_bootstrap
from infra.postgres_password import set_password_command
from infra.server_command import with_psycopg_driver
from tests.infra import image_layers, kubelet
from tests.infra.harness import Run, run_stack
from tests.integration import emulated
from tests.integration.k8s_pod import container, pod_spec, workload
from tests.support import secrets_scan
from tests.support.sandbox import network, published
from tests.support.services import AUTH_BOOTSTRAP, _create_database, free_port, postgres

pytestmark = pytest.mark.integration


def bootstrap(uri: str, admin_password: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env.update(
        MLFLOW_AUTH_DATABASE_URI=uri, MLFLOW_AUTH_ADMIN_USERNAME="admin", MLFLOW_AUTH_ADMIN_PASSWORD=admin_password
    )
    return subprocess.run(
        [sys.executable, "-P", str(AUTH_BOOTSTRAP)], env=env, capture_output=True, text=True, timeout=300
    )


def bootstrap_here(uri: str, admin_password: str, capsys: pytest.CaptureFixture) -> str:
    """The same script in this process (no second MLflow import: ~10 s each on this machine); it
    runs as a process, as the Job runs it, in test_server_flags.py's fixture."""
    env = {
        "MLFLOW_AUTH_DATABASE_URI": uri,
        "MLFLOW_AUTH_ADMIN_USERNAME": "admin",
        "MLFLOW_AUTH_ADMIN_PASSWORD": admin_password,
    }
    assert auth_bootstrap.main(env) == 0
    return capsys.readouterr().out


@pytest.fixture(scope="module")
def pg():
    with postgres() as running:
        yield running


def test_bootstrap_migrates_creates_rotates_then_leaves_alone(pg, capsys):
    _create_database(pg, "auth_rotation")
    uri = with_psycopg_driver(pg.uri("auth_rotation"))
    old, new = secrets_scan.token(24), secrets_scan.token(24)
    assert "user 'admin' created" in bootstrap_here(uri, old, capsys)
    with psycopg.connect(pg.uri("auth_rotation")) as conn:  # the auth schema is at alembic head
        (revision,) = conn.execute("SELECT version_num FROM alembic_version_auth").fetchone()
    assert revision
    from mlflow.server.auth.sqlalchemy_store import SqlAlchemyStore

    store = SqlAlchemyStore()
    store.init_db(uri)
    store.update_user("admin", is_admin=False)  # someone demoted the admin by hand
    assert "user 'admin' updated password and admin flag" in bootstrap_here(uri, new, capsys)
    assert store.authenticate_user("admin", new) and not store.authenticate_user("admin", old)
    assert store.get_user("admin").is_admin
    assert "user 'admin' unchanged" in bootstrap_here(uri, new, capsys)
    store.engine.dispose()


def test_bootstrap_failure_is_one_line_without_the_password():
    """(An unreachable database fails the same way, after MLflow's own ~100 s of retries: a Job's
    pod may start before the database does.)"""
    password = secrets_scan.token(24)
    done = bootstrap(f"postgresql+nosuchdriver://mlflow:{password}@127.0.0.1:{free_port()}/nowhere", password)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("auth bootstrap failed: NoSuchModuleError") and password not in done.stderr


@functools.cache
def small() -> Run:
    """The small setup's program under mocks (run when first needed, not at collection in every worker)."""
    return run_stack(
        "prod", extra={"externalS3": "false", "minioImage": "ghcr.io/acme/m:1", "postgresEngine": "statefulset"}
    )


@contextlib.contextmanager
def postgres_pod(password: str) -> Iterator[tuple[object, Path, int]]:
    """The small setup's PostgreSQL pod: a server initialised as the official image does (trust on the
    local socket, scram-sha-256 over TCP) with an existing volume whose password is `password`, its
    socket in the pod's `run` emptyDir. Yields the network, that directory and the TCP port on the host."""
    root = Path(tempfile.mkdtemp(prefix="mlflow-gitops-pgpw-"))
    root.chmod(0o755)
    try:
        statefulset = workload(small(), "StatefulSet", "postgres")
        volumes = kubelet.pod_volumes(small(), pod_spec(statefulset), root / "pod", claims=("data",))
        (root / "data").mkdir()
        with (
            network() as net,
            emulated.postgres(net, root / "data", volumes["run"], "mlflow", password, {}),
            published(net, 5432) as port,
        ):
            yield net, volumes, port
    finally:
        shutil.rmtree(root, ignore_errors=True)


def post_start(net, volumes, password: str, command: list[str] | None = None) -> subprocess.CompletedProcess:
    """The StatefulSet container's postStart hook, exactly as the manifest gives it (its env with
    the postgres-credentials Secret holding `password`, its user, mounts and read-only root).
    `command`: another command in that container instead."""
    statefulset = workload(small(), "StatefulSet", "postgres")
    c = container(statefulset, "postgres")
    values = {**kubelet.secret_data(small()), ("postgres-credentials", "password"): password}
    sandboxed = kubelet.sandboxed(
        small(), pod_spec(statefulset), c, image_layers.POSTGRES, volumes, net, secrets=values
    )
    sandboxed.argv = command or c["lifecycle"]["postStart"]["exec"]["command"]  # a hook: no $(VAR) expansion
    return sandboxed.run()


def _login(port: int, password: str) -> bool:
    try:
        psycopg.connect(host="127.0.0.1", port=port, user="mlflow", password=password, dbname="postgres").close()
    except psycopg.OperationalError:
        return False
    return True


@pytest.mark.parametrize("new", ["plain", "x'; DROP ROLE mlflow; --\"$(id)`id`\\'"], ids=["plain", "hostile"])
def test_the_postgres_password_command_sets_a_new_password_on_an_existing_volume(new):
    new += secrets.token_hex(8)  # random, and outside the test's id (ids must be the same in every xdist worker)
    old = secrets_scan.token(24)
    with postgres_pod(old) as (net, volumes, port):
        assert _login(port, old)
        done = post_start(net, volumes, new)
        assert done.returncode == 0, done.stderr
        assert _login(port, new) and not _login(port, old)


def test_the_postgres_password_command_fails_loudly():
    with postgres_pod(secrets_scan.token(24)) as (net, volumes, _):
        empty = post_start(net, volumes, "")
        assert empty.returncode == 1 and "POSTGRES_PASSWORD is empty" in empty.stderr
        # The same script (set_password_command builds the hook) with 2 attempts instead of 60, on a
        # socket directory where no server listens.
        script = set_password_command("/tmp", attempts=2)
        down = post_start(net, volumes, "x" * 24, list(script))
        assert down.returncode == 1 and "PostgreSQL did not start" in down.stderr


def test_the_postgres_probes_pass_on_the_running_server():
    """The StatefulSet's exec probes (startup, readiness, liveness) run in its container."""
    with postgres_pod(secrets_scan.token(24)) as (net, volumes, _):
        c = container(workload(small(), "StatefulSet", "postgres"), "postgres")
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            done = post_start(net, volumes, secrets_scan.token(24), c[probe]["exec"]["command"])
            assert done.returncode == 0, (probe, done.stderr)
