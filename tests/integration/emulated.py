"""The services the programs' containers talk to, started inside a network namespace
(tests/support/sandbox.py) on the ports the manifests name: PostgreSQL 15 where the manifests run PostgreSQL
16 (the official image's initialisation, or CloudNativePG's, done the way they do it), and moto's S3
server where they run MinIO (its S3 API; MinIO's admin API is the `mc` stub's part)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.sandbox import Network, published
from tests.support.services import _as_postgres_user, _pg_bin, _run, wait_until


def _in(net: Network, run_as: dict, argv: list[str]) -> list[str]:
    """`argv` in the network, as the user of `run_as` (nsenter needs root; then setpriv steps down)."""
    step_down = ["setpriv", f"--reuid={run_as['user']}", f"--regid={run_as['group']}", "--clear-groups"]
    return [*net.enter(), *(step_down if run_as else []), *argv]


@dataclass(frozen=True)
class Psql:
    net: Network
    run_as: dict
    socket_dir: Path
    port: int
    superuser: str

    def __call__(self, sql: str, **variables: str) -> None:
        argv = [_pg_bin("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", str(self.socket_dir)]
        argv += ["-p", str(self.port), "-U", self.superuser, "-d", "postgres"]
        for name, value in variables.items():
            argv += ["-v", f"{name}={value}"]
        done = subprocess.run(_in(self.net, self.run_as, [*argv, "-f", "-"]), input=sql, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"psql failed: {done.stderr.strip()[-1000:]}")

    def set_password(self, role: str, password: str, create: bool = False) -> None:
        """What CloudNativePG does for a managed role: its password is its Secret's."""
        verb = "CREATE ROLE" if create else "ALTER ROLE"
        self(f"{verb} \"{role}\" WITH LOGIN PASSWORD :'pw';", pw=password)


@contextlib.contextmanager
def postgres(
    net: Network,
    data: Path,
    socket_dir: Path,
    superuser: str,
    password: str,
    databases: dict[str, str],
    init_sql: str = "",
    port: int = 5432,
    roles: dict[str, str] | None = None,
) -> Iterator[Psql]:
    """Initialised as the official image's entrypoint does (docker-entrypoint.sh: initdb with
    POSTGRES_USER and POSTGRES_PASSWORD, trust on the local socket and scram-sha-256 over TCP,
    POSTGRES_DB created, then /docker-entrypoint-initdb.d/*.sql run), or as CloudNativePG's
    bootstrap.initdb does (the owner role with the password of its Secret, the databases it owns).
    `databases`: name -> owner; `roles`: login roles to create first, name -> password. Yields a
    psql runner (as the superuser, over the socket) inside `net`."""
    run_as = _as_postgres_user()
    work = Path(tempfile.mkdtemp(prefix="mlflow-gitops-emulated-pg-"))
    pwfile = work / "pwfile"
    pwfile.write_text(password + "\n")
    if run_as:
        for path in (work, pwfile, data):
            os.chown(path, run_as["user"], run_as["group"])
    initdb = [_pg_bin("initdb"), "-D", str(data / "pgdata"), "-U", superuser, "--pwfile", str(pwfile)]
    _run([*initdb, "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync"], run_as)
    opts = f"-p {port} -k {socket_dir} -c listen_addresses=* -c fsync=off"
    log = str(work / "pg.log")
    _run(_in(net, run_as, [_pg_bin("pg_ctl"), "-D", str(data / "pgdata"), "-o", opts, "-l", log, "-w", "start"]), {})
    try:
        psql = Psql(net, run_as, socket_dir, port, superuser)
        for role, role_password in (roles or {}).items():
            psql.set_password(role, role_password, create=True)
        for database, owner in databases.items():
            psql(f'CREATE DATABASE "{database}" OWNER "{owner}"')
        if init_sql:
            psql(init_sql)
        yield psql
    finally:
        stop = [_pg_bin("pg_ctl"), "-D", str(data / "pgdata"), "-m", "immediate", "stop"]
        subprocess.run(_in(net, run_as, stop), capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


@contextlib.contextmanager
def s3(net: Network, workdir: Path, port: int = 9000) -> Iterator[int]:
    """moto's S3 server on `port` of the network; yields the host port it is published on."""
    log = open(workdir / "moto.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [*net.enter(), sys.executable, "-m", "moto.server", "-H", "0.0.0.0", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        with published(net, port) as host_port:
            url = f"http://127.0.0.1:{host_port}/moto-api/"
            wait_until(lambda: urllib.request.urlopen(url).status == 200, "moto server", proc=proc)
            yield host_port
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def create_buckets(host_port: int, buckets: list[str]) -> None:
    """What `mc mb` does on MinIO, done on moto (the stub records the calls; see tests/infra/stubs/mc)."""
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{host_port}",
        aws_access_key_id="moto",
        aws_secret_access_key="moto",
        region_name="us-east-1",
    )
    for bucket in buckets:
        client.create_bucket(Bucket=bucket)
