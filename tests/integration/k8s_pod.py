"""The Kubernetes program's workloads run as the kubelet would run them: each container's exact
command, env (Secrets and the downward API resolved, `$(VAR)` expanded), user, fsGroup, read-only
root and volumes (tests/infra/kubelet.py, tests/support/sandbox.py), in one network namespace where the
Services' names resolve to its loopback, against PostgreSQL set up as CloudNativePG sets up the
Cluster (the managed role's password from its Secret, the `mlflow` and `mlflow_auth` databases) and
moto serving MinIO's S3 API."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import shutil
import subprocess
import sysconfig
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.infra import image_layers, kubelet
from tests.infra.harness import Run
from tests.integration import emulated
from tests.support.sandbox import ImageFile, Network, network, published

POD_IP = "10.244.3.17"
RECORDER = Path(__file__).resolve().parent / "engine_recorder.py"
SITE_PACKAGES = sysconfig.get_paths()["purelib"]  # status.podIP, as the downward API gives it (no traffic goes there)


def service_hosts(run: Run, namespace: str = "mlflow") -> dict[str, str]:
    """Every Service's DNS names (and CloudNativePG's `<cluster>-rw`) -> the namespace's loopback."""
    names = [s["metadata"]["name"] for s in run.k8s("Service")] + [
        f"{c['metadata']['name']}-rw" for c in run.k8s("Cluster")
    ]
    hosts = {}
    for name in names:
        for form in (name, f"{name}.{namespace}", f"{name}.{namespace}.svc", f"{name}.{namespace}.svc.cluster.local"):
            hosts[form] = "127.0.0.1"
    return hosts


def workload(run: Run, kind: str, prefix: str) -> dict[str, Any]:
    (found,) = [o for o in run.k8s(kind) if o["metadata"]["name"].startswith(prefix)]
    return found


def pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    return obj["spec"]["template"]["spec"]


def container(obj: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [c for c in pod_spec(obj)["containers"] if c["name"] == name]
    return found


def run_job(run: Run, prefix: str, net: Network, root: Path, image, entrypoint=None):
    """A Job's pod, run once to completion."""
    job = workload(run, "Job", prefix)
    spec = pod_spec(job)
    (c,) = spec["containers"]
    volumes = kubelet.pod_volumes(run, spec, root / f"{prefix}-{time.monotonic_ns()}")
    return kubelet.sandboxed(run, spec, c, image, volumes, net, service_hosts(run), {"status.podIP": POD_IP},
                             entrypoint).run()  # fmt: skip


def mc_buckets(stderr: str) -> list[str]:
    calls = [json.loads(line.split(": ", 1)[1]) for line in stderr.splitlines() if line.startswith("mc-stub: ")]
    return [t.split("/", 1)[1] for c in calls if c["cmd"] == "mb" for t in c["targets"]]


@dataclass
class Pod:
    uri: str  # the MLflow container's port, published on the host
    metrics_uri: str  # the metrics sidecar's
    admin_password: str
    metrics_password: str
    root: Path
    migration_output: str

    net: Network | None = None

    def connections_by_pid(self, port: int) -> dict[int, int]:
        """Established TCP connections to `port` in the pod's network, by the process holding them."""
        done = subprocess.run([*self.net.enter(), "ss", "-Htnp", "state", "established", f"dport = :{port}"],
                              capture_output=True, text=True, check=True)  # fmt: skip
        counts: dict[int, int] = {}
        for pid in re.findall(r"pid=(\d+)", done.stdout):
            counts[int(pid)] = counts.get(int(pid), 0) + 1
        return counts

    def engines(self) -> list[dict]:
        """The server process's SQLAlchemy engines still open (tests/integration/engine_recorder.py)."""
        records = [json.loads(line) for line in (self.root / "server-pod" / "tmp" / "sqlalchemy-engines.jsonl").open()]
        disposed = {r["engine"] for r in records if r["event"] == "disposed"}
        return [r for r in records if r["event"] == "created" and r["engine"] not in disposed]


@contextlib.contextmanager
def database_and_store(run: Run, root: Path) -> Iterator[tuple[Network, emulated.Psql, int]]:
    """The namespace's network with PostgreSQL (as CloudNativePG's Cluster) and S3 (as MinIO)."""
    secrets = kubelet.secret_data(run)
    with network() as net, contextlib.ExitStack() as ctx:
        data, socket = root / "pgdata-volume", root / "pgsocket"
        for path in (data, socket):
            path.mkdir()
        socket.chmod(0o3777)
        psql = ctx.enter_context(
            emulated.postgres(
                net, data, socket, "postgres", secrets[("mlflow-pg-app", "password")] + "-superuser",
                {"mlflow": "mlflow", "mlflow_auth": "mlflow"}, roles={"mlflow": secrets[("mlflow-pg-app", "password")]},
            )
        )  # fmt: skip
        s3_port = ctx.enter_context(emulated.s3(net, root))
        yield net, psql, s3_port


@contextlib.contextmanager
def server_pod(run: Run, net: Network, root: Path, migration_output: str) -> Iterator[Pod]:
    deployment = workload(run, "Deployment", "mlflow-server")
    spec = pod_spec(deployment)
    volumes = kubelet.pod_volumes(run, spec, root / "server-pod")
    hosts, pod = service_hosts(run), {"status.podIP": POD_IP}
    recorder = ImageFile(f"{SITE_PACKAGES}/sitecustomize.py", RECORDER.read_bytes())
    instrumented = dataclasses.replace(image_layers.MLFLOW, files=(*image_layers.MLFLOW.files, recorder))
    mlflow = kubelet.sandboxed(run, spec, container(deployment, "mlflow"), instrumented, volumes, net, hosts, pod)
    sidecar = kubelet.sandboxed(run, spec, container(deployment, "metrics"), image_layers.MLFLOW, volumes, net, hosts,
                                pod)  # fmt: skip
    secrets = kubelet.secret_data(run)
    with contextlib.ExitStack() as ctx:
        # The kubelet starts the containers in order, without waiting for the first to be ready.
        server_proc = ctx.enter_context(mlflow.started(root / "mlflow.log"))
        sidecar_proc = ctx.enter_context(sidecar.started(root / "metrics.log"))
        port = ctx.enter_context(published(net, 5000))
        metrics_port = ctx.enter_context(published(net, 9101))
        uri = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 180
        while True:  # the startup probe: GET /health on the pod's port
            with contextlib.suppress(Exception):
                if urllib.request.urlopen(uri + "/health", timeout=2).status == 200:
                    break
            for proc, log in ((server_proc, "mlflow.log"), (sidecar_proc, "metrics.log")):
                assert proc.poll() is None, f"{log} exited {proc.returncode}: {(root / log).read_text()[-3000:]}"
            assert time.monotonic() < deadline, (root / "mlflow.log").read_text()[-3000:]
            time.sleep(1)
        yield Pod(uri, f"http://127.0.0.1:{metrics_port}", secrets[("mlflow-auth", "admin-password")],
                  secrets[("mlflow-auth", "metrics-password")], root, migration_output, net)  # fmt: skip


@contextlib.contextmanager
def deployed(first: Run, current: Run) -> Iterator[Pod]:
    """`first` deployed (its bucket and migration Jobs), then `current` (a new generation of every
    password: the role's by CloudNativePG, the admin's by the migration Job), then the server pod."""
    root = Path(tempfile.mkdtemp(prefix="mlflow-gitops-k8s-pod-"))
    root.chmod(0o755)
    try:
        with database_and_store(first, root) as (net, psql, s3_port):
            bucket = run_job(first, "minio-bucket-", net, root, image_layers.MINIO, image_layers.MINIO_ENTRYPOINT)
            assert bucket.returncode == 0, bucket.stderr[-2000:]
            emulated.create_buckets(s3_port, mc_buckets(bucket.stderr))
            old = run_job(first, "mlflow-db-migrate-", net, root, image_layers.MLFLOW)
            assert old.returncode == 0, old.stderr[-3000:]
            psql.set_password("mlflow", kubelet.secret_data(current)[("mlflow-pg-app", "password")])
            new = run_job(current, "mlflow-db-migrate-", net, root, image_layers.MLFLOW)
            assert new.returncode == 0, new.stderr[-3000:]
            with server_pod(current, net, root, new.stdout) as pod:
                yield pod
    finally:
        shutil.rmtree(root, ignore_errors=True)
