"""The Kubernetes program's server pod run as the kubelet would run it (tests/integration/k8s_pod.py:
the Deployment's two containers and the migration Job, each with exactly its command, env, user,
read-only root and volumes, read from the program under mocks), answering the requests Prometheus,
the kubelet, the Ingress and the Service send (the Host rule of --allowed-hosts, on /metrics), and
the metrics sidecar serving the scrape account. Real processes: PostgreSQL (as CloudNativePG sets
it up), S3 (moto, where MinIO runs), `mlflow server`, infra/auth_bootstrap.py, infra/metrics_exporter.py.

The stack is deployed twice, as after `pulumi up --replace` of every RandomPassword: the first
generation's migration Job creates the admin, the second's rotates its password."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Iterator

import pytest
import requests

from infra.k8s.server_settings import expand_pod_ip, k8s_server_settings, scrape_hosts
from infra.server_command import ENGINES_PER_SERVER, STARTUP_CONNECTIONS, ServerSettings, server_command
from tests.infra.harness import Run, run_stack
from tests.integration.k8s_pod import POD_IP, Pod, deployed
from tests.support import secrets_scan

pytestmark = pytest.mark.integration

HOSTNAME = "mlflow.example.com"
IN_CLUSTER_MINIO = {"externalS3": "false", "minioImage": "ghcr.io/acme/mlflow-registry-minio:2026-02-11-7aac2a2"}
DEPLOYED = k8s_server_settings("mlflow", HOSTNAME, "mlflow", "http://minio.mlflow.svc.cluster.local:9000", True)
# What the kubelet makes of the deployed --allowed-hosts in a pod whose IP is POD_IP.
DEPLOYED_HOSTS = expand_pod_ip(DEPLOYED.allowed_hosts, POD_IP)
LOCAL_ONLY = ("--host", "--port", "--artifacts-destination", "--expose-prometheus", "--allowed-hosts")


@functools.cache
def first() -> Run:
    """A first generation of the stack's passwords (run when first needed, not at collection)."""
    return run_stack("prod", extra=IN_CLUSTER_MINIO, secret_salt="first")


def old_admin_password() -> str:
    (auth,) = [s for s in first().k8s("Secret") if s["metadata"]["name"] == "mlflow-auth"]
    return auth["stringData"]["admin-password"]


@pytest.fixture(scope="module")
def server() -> Iterator[Pod]:
    with deployed(first(), run_stack("prod", extra=IN_CLUSTER_MINIO)) as pod:
        yield pod


@pytest.fixture(scope="module")
def exporter(server: Pod) -> tuple[str, str]:
    return server.metrics_uri, server.metrics_password


def get(server: Pod, path: str, host: str, auth: tuple[str, str] | None = None) -> requests.Response:
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
    running = server
    answer = get(running, "/metrics", f"{POD_IP}:5000", ("admin", running.admin_password))
    assert answer.status_code == 200, answer.text[:300]
    assert "# TYPE" in answer.text


@pytest.mark.parametrize(
    "host", ["10.244.3.18:5000", f"{POD_IP}:8080", "attacker.example", "localhost.attacker.example"]
)
def test_other_hosts_are_refused(server, host):
    running = server
    assert get(running, "/metrics", host, ("admin", running.admin_password)).status_code == 403


@pytest.mark.parametrize("host", [HOSTNAME, "mlflow.mlflow.svc.cluster.local", "mlflow.mlflow.svc", "mlflow"])
def test_the_ingress_and_service_names_are_allowed(server, host):
    running = server
    assert get(running, "/metrics", host, ("admin", running.admin_password)).status_code == 200


def test_probes_pass_whatever_the_host(server):
    """The kubelet's HTTP probes send the pod IP as Host too; /health is exempt from the rule."""
    running = server
    assert get(running, "/health", f"{POD_IP}:5000").status_code == 200
    assert get(running, "/health", "anything.example").status_code == 200


def test_the_rotated_admin_password_is_the_one_the_server_accepts(server):
    """MLflow itself never changes an existing admin's password; the migration step did."""
    running = server
    url = running.uri + "/api/2.0/mlflow/users/get?username=admin"
    host = {"Host": HOSTNAME}
    assert requests.get(url, auth=("admin", running.admin_password), headers=host, timeout=30).status_code == 200
    assert requests.get(url, auth=("admin", old_admin_password()), headers=host, timeout=30).status_code == 401
    assert "user 'admin' updated password" in running.migration_output


def test_mlflow_answers_metrics_to_admins_only(server):
    """Why the scrape goes through the sidecar: MLflow 3.17.2's basic auth fails closed on /metrics
    for every user but admins, so an MLflow account for Prometheus would have to be an admin."""
    running = server
    user, password = "reader-" + secrets.token_hex(4), secrets_scan.token(16)
    created = requests.post(
        running.uri + "/api/2.0/mlflow/users/create",
        json={"username": user, "password": password},
        auth=("admin", running.admin_password),
        headers={"Host": HOSTNAME},
        timeout=30,
    )
    assert created.status_code == 200, created.text
    assert get(running, "/metrics", HOSTNAME, (user, password)).status_code == 403
    assert get(running, "/metrics", HOSTNAME).status_code == 401


def test_the_sidecar_serves_the_servers_metrics_to_the_scrape_account(server, exporter):
    running = server
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


def test_the_server_opens_the_engines_the_pool_budget_counts(server):
    """infra/server_command.py sizes the pools for ENGINES_PER_SERVER engines in the worker, with the
    pool the manifest's env gives (MLFLOW_SQLALCHEMYSTORE_POOL_SIZE / _MAX_OVERFLOW), plus the
    connections the starting `mlflow server` process keeps (STARTUP_CONNECTIONS): counted here after
    tracking, registry and auth requests, the engines by process and the connections by `ss`."""
    auth = ("admin", server.admin_password)
    for path in (
        "/api/2.0/mlflow/experiments/search?max_results=1",
        "/api/2.0/mlflow/registered-models/search?max_results=1",
        "/api/2.0/mlflow/users/get?username=admin",
    ):
        assert get(server, path, HOSTNAME, auth).status_code == 200, path
    by_pid: dict[int, list[dict]] = {}
    for engine in server.engines():
        by_pid.setdefault(engine["pid"], []).append(engine)
    assert len(by_pid) == 2  # `mlflow server` and its one uvicorn worker
    pools = DEPLOYED.pools
    for engines in by_pid.values():
        assert sorted(e["database"] for e in engines) == ["mlflow", "mlflow", "mlflow_auth"]
        assert len(engines) == ENGINES_PER_SERVER
        assert {(e["pool"], e["size"], e["max_overflow"]) for e in engines} == {
            ("QueuePool", pools.size, pools.max_overflow)
        }
    connections = server.connections_by_pid(5432)
    starter = min(by_pid)  # the parent starts first
    assert connections.get(starter, 0) <= STARTUP_CONNECTIONS, connections
    assert sum(connections.values()) <= pools.per_server
