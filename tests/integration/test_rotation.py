"""Secret rotation against real services: the auth bootstrap (the migration Job) migrates the auth
database and resets the admin's password (tests/integration/test_server_flags.py shows the server
then accepts the new one), and the PostgreSQL password command sets a new password on a database
whose volume already exists."""

from __future__ import annotations

import contextlib
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
from tests import secrets_scan
from tests.services import (
    AUTH_BOOTSTRAP,
    _as_postgres_user,
    _create_database,
    _pg_bin,
    _run,
    free_port,
    postgres,
)

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


@contextlib.contextmanager
def image_like_postgres(password: str) -> Iterator[tuple[Path, int]]:
    """PostgreSQL initialised as the official image does: trust on the local socket, passwords
    (scram-sha-256) over TCP."""
    workdir = Path(tempfile.mkdtemp(prefix="mlflow-gitops-pgpw-"))
    run_as = _as_postgres_user()
    (workdir / "pwfile").write_text(password + "\n")
    if run_as:
        os.chown(workdir, run_as["user"], run_as["group"])
        os.chown(workdir / "pwfile", run_as["user"], run_as["group"])
    data, port = workdir / "data", free_port()
    initdb = [_pg_bin("initdb"), "-D", str(data), "-U", "mlflow", "--pwfile", str(workdir / "pwfile"), "--no-sync"]
    _run([*initdb, "--auth-local=trust", "--auth-host=scram-sha-256"], run_as)
    opts = f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off"
    _run([_pg_bin("pg_ctl"), "-D", str(data), "-o", opts, "-l", str(workdir / "log"), "-w", "start"], run_as)
    try:
        yield workdir, port
    finally:
        subprocess.run([_pg_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True, **run_as)
        shutil.rmtree(workdir, ignore_errors=True)


def _set_password(socket_dir: Path, port: int, password: str, attempts: int = 60) -> subprocess.CompletedProcess:
    script = set_password_command(str(socket_dir), attempts)[2].replace("-h ", f"-p {port} -h ")
    return subprocess.run(
        ["sh", "-c", script], env={**os.environ, "POSTGRES_PASSWORD": password}, capture_output=True, text=True
    )


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
    with image_like_postgres(old) as (socket_dir, port):
        assert _login(port, old)
        done = _set_password(socket_dir, port, new)
        assert done.returncode == 0, done.stderr
        assert _login(port, new) and not _login(port, old)


def test_the_postgres_password_command_fails_loudly():
    with image_like_postgres(secrets_scan.token(24)) as (socket_dir, port):
        empty = _set_password(socket_dir, port, "")
        assert empty.returncode == 1 and "POSTGRES_PASSWORD is empty" in empty.stderr
    down = _set_password(Path(tempfile.gettempdir()) / "no-such-socket-dir", free_port(), "x" * 24, attempts=2)
    assert down.returncode == 1 and "PostgreSQL did not start" in down.stderr
