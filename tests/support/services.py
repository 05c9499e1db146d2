"""Real services for integration tests and benchmarks: PostgreSQL, an S3 server (moto), mlflow server.

Each starts in a temporary directory on a free loopback port and stops when its context exits.
The MLflow server is built by infra.server_command, the same function the Pulumi programs use.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from infra.server_command import (
    WORKERS,
    SecretRef,
    ServerSettings,
    auth_config_ini,
    migrate_command,
    migrate_env,
    server_command,
    with_psycopg_driver,
)
from tests.support import secrets_scan

VENV_BIN = Path(sys.executable).parent
AUTH_BOOTSTRAP = Path(__file__).resolve().parents[2] / "infra" / "auth_bootstrap.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, what: str, timeout: float = 90.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} before it was ready")
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(0.2)
    raise TimeoutError(f"{what} not ready after {timeout:.0f} s")


def _pg_bin(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))), None)
    if not found:
        raise RuntimeError(f"{name} not found: install PostgreSQL server binaries (apt-get install postgresql)")
    return found


def _as_postgres_user() -> dict:
    """PostgreSQL refuses to run as root; drop to the 'postgres' user when we are root."""
    if os.geteuid() != 0:
        return {}
    user = pwd.getpwnam("postgres")
    return {"user": user.pw_uid, "group": user.pw_gid}


def _run(args: list[str], run_as: dict) -> None:
    done = subprocess.run(args, capture_output=True, text=True, **run_as)
    if done.returncode != 0:
        raise RuntimeError(f"{Path(args[0]).name} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")


@dataclass(frozen=True)
class Postgres:
    port: int
    password: str
    data: Path | None = None  # for kill() and start() (fault trials)
    opts: str = ""

    def uri(self, database: str) -> str:
        return f"postgresql://mlflow:{self.password}@127.0.0.1:{self.port}/{database}"

    def kill(self) -> None:
        """SIGKILL the postmaster, as a crash would (its backends exit when it is gone)."""
        assert self.data is not None
        pid = int((self.data / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not _alive(pid), "postgres to die", 30)

    def start(self) -> None:
        """Start it again on the same port and data (it recovers from its WAL)."""
        assert self.data is not None
        with contextlib.suppress(FileNotFoundError):
            (self.data / "postmaster.pid").unlink()  # a SIGKILLed postmaster leaves it behind
        log = str(self.data.parent / "pg.log")
        _run([_pg_bin("pg_ctl"), "-D", str(self.data), "-o", self.opts, "-l", log, "-w", "start"], _as_postgres_user())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
            return False
    return True


@contextlib.contextmanager
def postgres(databases: tuple[str, ...] = ("mlflow",)) -> Iterator[Postgres]:
    # Its own directory: pytest's temporary directories are private to root, and the server
    # runs as 'postgres' when we are root.
    workdir = Path(tempfile.mkdtemp(prefix="mlflow-gitops-pg-"))
    data, port, password = workdir / "pgdata", free_port(), secrets.token_urlsafe(24)
    secrets_scan.register(password)
    pwfile = workdir / "pwfile"
    pwfile.write_text(password + "\n")
    run_as = _as_postgres_user()
    if run_as:
        os.chown(workdir, run_as["user"], run_as["group"])
        os.chown(pwfile, run_as["user"], run_as["group"])
    _run(
        [
            _pg_bin("initdb"),
            "-D",
            str(data),
            "-U",
            "mlflow",
            "--pwfile",
            str(pwfile),
            "--auth=scram-sha-256",
            "-E",
            "UTF8",
            "--no-sync",
        ],
        run_as,
    )
    opts = f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    _run([_pg_bin("pg_ctl"), "-D", str(data), "-o", opts, "-l", str(workdir / "pg.log"), "-w", "start"], run_as)
    try:
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port={port} user=mlflow password={password} dbname=postgres", autocommit=True
        ) as conn:
            for db in databases:
                conn.execute(f'CREATE DATABASE "{db}"')
        yield Postgres(port, password, data, opts)
    finally:
        subprocess.run([_pg_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True, **run_as)
        shutil.rmtree(workdir, ignore_errors=True)


@contextlib.contextmanager
def s3_server(workdir: Path, bucket: str = "mlflow") -> Iterator[str]:
    """moto's standalone server (an S3 API); deployments use MinIO."""
    port = free_port()
    log = open(workdir / "moto.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: urllib.request.urlopen(url + "/moto-api/").status == 200, "moto server", proc=proc)
        import boto3

        boto3.client(
            "s3", endpoint_url=url, aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
        ).create_bucket(Bucket=bucket)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def _create_database(pg: Postgres, name: str) -> None:
    import psycopg

    with psycopg.connect(pg.uri("postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')


class ServerProcess:
    """One `mlflow server` process that can be killed and started again on the same port."""

    def __init__(self, args: list[str], env: dict[str, str], workdir: Path, uri: str):
        self.args, self.env, self.workdir, self.uri = args, env, workdir, uri
        self.proc: subprocess.Popen | None = None
        self.log = open(workdir / "mlflow.log", "a")  # noqa: SIM115

    def start(self) -> None:
        # Its own process group: `mlflow server` runs uvicorn as a child, which must die with it.
        self.proc = subprocess.Popen(
            self.args, env=self.env, cwd=self.workdir, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        wait_until(lambda: urllib.request.urlopen(self.uri + "/health").status == 200, "mlflow server", 120, self.proc)

    def _signal(self, sig: int) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)

    def kill(self) -> None:
        """SIGKILL to the server and its uvicorn worker, as a crash or an OOM kill would."""
        self._signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(30)
            wait_until(lambda: not _group_alive(self.proc.pid), "mlflow server to die", 30)

    def stop(self) -> None:
        self._signal(signal.SIGTERM)
        if self.proc is not None:
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
            with contextlib.suppress(TimeoutError):
                wait_until(lambda: not _group_alive(self.proc.pid), "mlflow server to stop", 15)
            if _group_alive(self.proc.pid):
                self._signal(signal.SIGKILL)
        self.log.close()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@dataclass(frozen=True)
class MlflowServer:
    uri: str
    admin_password: str
    env: dict[str, str]  # what the server process got (secrets included): for the client's S3 access
    process: ServerProcess | None = None  # kill() and start(), for fault trials


@contextlib.contextmanager
def mlflow_server(
    workdir: Path,
    pg: Postgres,
    s3_url: str,
    auth: bool = True,
    workers: int = WORKERS,
    shared: tuple[str, str, str] | None = None,
    extra_hosts: tuple[str, ...] = (),
    auth_bootstrap: bool = False,
) -> Iterator[MlflowServer]:
    """`shared` (auth database, admin password, flask key): a further replica of an existing server.
    `auth_bootstrap`: migrate as deployments do (infra/auth_bootstrap.py after `mlflow db upgrade`:
    the auth database's migrations, and the admin's password set). Database URIs name the psycopg
    driver, as deployed."""
    port = free_port()
    (workdir / "metrics").mkdir(parents=True, exist_ok=True)
    if shared is None:
        shared = (f"mlflow_auth_{workdir.name}", secrets.token_urlsafe(24), secrets.token_hex(32))
        _create_database(pg, shared[0])
    auth_db, admin_password, flask_key = shared
    secrets_scan.register(admin_password, flask_key)
    auth_ini = workdir / "basic_auth.ini"
    auth_uri = with_psycopg_driver(pg.uri(auth_db))
    auth_ini.write_text(auth_config_ini(auth_uri))
    settings = ServerSettings(
        artifacts_destination="s3://mlflow/artifacts",
        host="127.0.0.1",
        port=port,
        allowed_hosts=(f"127.0.0.1:{port}", f"localhost:{port}", *extra_hosts),
        s3_endpoint_url=s3_url,
        auth=auth,
        auth_config_path=str(auth_ini),
        metrics_dir=str(workdir / "metrics"),
        workers=workers,
    )
    command = server_command(settings)
    auth_db_ref = SecretRef("test", "auth-database-uri")
    values = {
        settings.backend_store_uri: with_psycopg_driver(pg.uri("mlflow")),
        settings.s3_access_key: "test",
        settings.s3_secret_key: "test",
        settings.admin_password: admin_password,
        settings.flask_secret_key: flask_key,
        auth_db_ref: auth_uri,
    }
    env = {**os.environ, **command.resolved_env(values), "PATH": f"{VENV_BIN}:{os.environ['PATH']}"}
    for key in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
        env.pop(key, None)
    if not auth_bootstrap:
        subprocess.run(list(migrate_command()), env=env, check=True, capture_output=True, cwd=workdir)
    else:
        job_env = {
            k: (values[v] if isinstance(v, SecretRef) else v) for k, v in migrate_env(settings, auth_db_ref).items()
        }
        done = subprocess.run(
            list(migrate_command(str(AUTH_BOOTSTRAP))),
            env={**env, **job_env},
            capture_output=True,
            text=True,
            cwd=workdir,
        )
        if done.returncode != 0:
            raise RuntimeError(f"migrations failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    uri = f"http://127.0.0.1:{port}"
    process = ServerProcess(list(command.args), env, workdir, uri)
    try:
        process.start()
        yield MlflowServer(uri, admin_password, command.resolved_env(values), process)
    finally:
        process.stop()


@contextlib.contextmanager
def replicas(workdir: Path, pg: Postgres, s3_url: str, count: int) -> Iterator[MlflowServer]:
    """`count` servers sharing database, auth store and secrets behind a round-robin TCP proxy:
    the deployed shape (a Deployment's replicas behind a Service), on loopback."""
    port = free_port()
    hosts = (f"127.0.0.1:{port}", f"localhost:{port}")
    with contextlib.ExitStack() as stack:
        first = stack.enter_context(mlflow_server(workdir / "r0", pg, s3_url, extra_hosts=hosts))
        shared = (
            f"mlflow_auth_{(workdir / 'r0').name}",
            first.admin_password,
            first.env["MLFLOW_FLASK_SERVER_SECRET_KEY"],
        )
        others = [
            stack.enter_context(mlflow_server(workdir / f"r{i}", pg, s3_url, shared=shared, extra_hosts=hosts))
            for i in range(1, count)
        ]
        backends = [int(s.uri.rsplit(":", 1)[1]) for s in (first, *others)]
        stack.enter_context(round_robin_proxy(backends, port))
        yield MlflowServer(f"http://127.0.0.1:{port}", first.admin_password, first.env)


@contextlib.contextmanager
def round_robin_proxy(backends: list[int], port: int) -> Iterator[int]:
    """tests/support/proxy.py in its own process (so it does not share the benchmark client's GIL)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.proxy", str(port), *map(str, backends)],
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        wait_until(lambda: socket.create_connection(("127.0.0.1", port), 1).close() is None, "proxy", 20, proc)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


@contextlib.contextmanager
def stack(workdir: Path, auth: bool = True) -> Iterator[MlflowServer]:
    with postgres() as pg, s3_server(workdir) as s3, mlflow_server(workdir, pg, s3, auth) as server:
        yield server
