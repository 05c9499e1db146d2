"""The MLflow server started with the flags the Kubernetes program deploys, answering the requests
Prometheus, the kubelet, the Ingress and the Service send (the Host rule of --allowed-hosts, on
/metrics), and the metrics sidecar serving the scrape account. Real processes: PostgreSQL, S3 (moto),
`mlflow server`, and infra/metrics_exporter.py run with the deployed command and environment."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from infra.k8s.server_settings import expand_pod_ip, k8s_server_settings, scrape_hosts
from infra.server_command import (
    MetricsAccount,
    SecretRef,
    ServerSettings,
    metrics_exporter_command,
    metrics_exporter_env,
    server_command,
    with_psycopg_driver,
)
from tests import secrets_scan
from tests.integration.test_rotation import bootstrap
from tests.services import MlflowServer, _create_database, free_port, mlflow_server, postgres, s3_server, wait_until

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
POD_IP = "10.244.3.17"
HOSTNAME = "mlflow.example.com"
DEPLOYED = k8s_server_settings("mlflow", HOSTNAME, "mlflow", "http://minio.mlflow.svc.cluster.local:9000", True)
# What the kubelet makes of the deployed --allowed-hosts in a pod whose IP is POD_IP.
DEPLOYED_HOSTS = expand_pod_ip(DEPLOYED.allowed_hosts, POD_IP)
LOCAL_ONLY = ("--host", "--port", "--artifacts-destination", "--expose-prometheus", "--allowed-hosts")


OLD_ADMIN_PASSWORD = secrets_scan.token(24)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[MlflowServer, Path]]:
    """An auth database whose admin has an old password (a first deployment), then the server
    deployed with a new one: migrated by infra/auth_bootstrap.py as the migration Job does."""
    workdir = tmp_path_factory.mktemp("flags")
    with postgres() as pg, s3_server(workdir) as s3:
        auth_db = f"mlflow_auth_{workdir.name}"
        _create_database(pg, auth_db)
        first = bootstrap(with_psycopg_driver(pg.uri(auth_db)), OLD_ADMIN_PASSWORD)
        assert first.returncode == 0, first.stderr
        shared = (auth_db, secrets_scan.token(24), secrets.token_hex(32))
        with mlflow_server(workdir, pg, s3, shared=shared, extra_hosts=DEPLOYED_HOSTS, auth_bootstrap=True) as running:
            yield running, workdir / "metrics"


@pytest.fixture(scope="module")
def exporter(server) -> Iterator[tuple[str, str]]:
    """infra/metrics_exporter.py with the sidecar's command and env, on the server's metric files."""
    _, metrics_dir = server
    password, port = secrets_scan.token(24), free_port()
    account = MetricsAccount()
    settings = ServerSettings(artifacts_destination="s3://mlflow/artifacts", metrics_dir=str(metrics_dir))
    env = {
        k: (password if isinstance(v, SecretRef) else v)
        for k, v in metrics_exporter_env(settings, account, port).items()
    }
    command = list(metrics_exporter_command(str(REPO / "infra" / "metrics_exporter.py")))
    command[0] = sys.executable
    proc = subprocess.Popen(command, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: requests.get(url + "/metrics", timeout=2).status_code == 401, "metrics exporter", 30, proc)
        yield url, password
    finally:
        proc.terminate()
        proc.wait(10)


def get(server: MlflowServer, path: str, host: str, auth: tuple[str, str] | None = None) -> requests.Response:
    return requests.get(server.uri + path, headers={"Host": host}, auth=auth, timeout=30)


def _without(args: tuple[str, ...], flags: tuple[str, ...]) -> list[str]:
    out, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg in flags:
            skip = True
        else:
            out.append(arg)
    return out


def test_the_server_runs_the_deployed_flags():
    """Besides where it listens, writes metrics and proxies to, the command is the deployed one."""
    local = server_command(ServerSettings(artifacts_destination="s3://mlflow/artifacts", allowed_hosts=("x",)))
    assert _without(server_command(DEPLOYED).args, LOCAL_ONLY) == _without(local.args, LOCAL_ONLY)
    assert scrape_hosts()[0] in DEPLOYED.allowed_hosts and f"{POD_IP}:5000" in DEPLOYED_HOSTS


def test_metrics_answer_the_pod_ip_as_host(server):
    running, _ = server
    answer = get(running, "/metrics", f"{POD_IP}:5000", ("admin", running.admin_password))
    assert answer.status_code == 200, answer.text[:300]
    assert "# TYPE" in answer.text


@pytest.mark.parametrize(
    "host", ["10.244.3.18:5000", f"{POD_IP}:8080", "attacker.example", "localhost.attacker.example"]
)
def test_other_hosts_are_refused(server, host):
    running, _ = server
    assert get(running, "/metrics", host, ("admin", running.admin_password)).status_code == 403


@pytest.mark.parametrize("host", [HOSTNAME, "mlflow.mlflow.svc.cluster.local", "mlflow.mlflow.svc", "mlflow"])
def test_the_ingress_and_service_names_are_allowed(server, host):
    running, _ = server
    assert get(running, "/metrics", host, ("admin", running.admin_password)).status_code == 200


def test_probes_pass_whatever_the_host(server):
    """The kubelet's HTTP probes send the pod IP as Host too; /health is exempt from the rule."""
    running, _ = server
    assert get(running, "/health", f"{POD_IP}:5000").status_code == 200
    assert get(running, "/health", "anything.example").status_code == 200


def test_the_rotated_admin_password_is_the_one_the_server_accepts(server):
    """MLflow itself never changes an existing admin's password; the migration step did."""
    running, _ = server
    url = running.uri + "/api/2.0/mlflow/users/get?username=admin"
    assert requests.get(url, auth=("admin", running.admin_password), timeout=30).status_code == 200
    assert requests.get(url, auth=("admin", OLD_ADMIN_PASSWORD), timeout=30).status_code == 401


def test_mlflow_answers_metrics_to_admins_only(server):
    """Why the scrape goes through the sidecar: MLflow 3.17.2's basic auth fails closed on /metrics
    for every user but admins, so an MLflow account for Prometheus would have to be an admin."""
    running, _ = server
    user, password = "reader-" + secrets.token_hex(4), secrets_scan.token(16)
    created = requests.post(
        running.uri + "/api/2.0/mlflow/users/create",
        json={"username": user, "password": password},
        auth=("admin", running.admin_password),
        timeout=30,
    )
    assert created.status_code == 200, created.text
    assert get(running, "/metrics", HOSTNAME, (user, password)).status_code == 403
    assert get(running, "/metrics", HOSTNAME).status_code == 401


def test_the_sidecar_serves_the_servers_metrics_to_the_scrape_account(server, exporter):
    running, _ = server
    url, password = exporter
    for _ in range(3):  # some traffic, so request metrics exist
        get(running, "/api/2.0/mlflow/experiments/search?max_results=1", HOSTNAME, ("admin", running.admin_password))
    answer = requests.get(url + "/metrics", auth=("metrics", password), headers={"Host": f"{POD_IP}:9101"}, timeout=10)
    assert answer.status_code == 200
    assert "mlflow_http_request_total" in answer.text or "mlflow_http_request_duration_seconds" in answer.text


@pytest.mark.parametrize(
    "auth", [None, ("metrics", "wrong"), ("admin", "x"), ("metrics:", "x")], ids=["none", "wrong", "other", "colon"]
)
def test_the_sidecar_refuses_anyone_else(exporter, auth):
    url, _ = exporter
    assert requests.get(url + "/metrics", auth=auth, timeout=10).status_code == 401


def test_the_sidecar_serves_nothing_else(exporter):
    url, password = exporter
    assert requests.get(url + "/", auth=("metrics", password), timeout=10).status_code == 404
