"""The serving pod's two containers run as the manifest gives them (command, env with the Secret
resolved, user, read-only root, volumes; tests/sandbox.py), with the venv's real `mlflow` standing
in for the image's: the init container downloads the pinned version from a real `mlflow server`
as the read-only user, through the tracking server's artifact proxy, and the scoring container
answers /ping, /health, /version and /invocations for the scikit-learn model trained in the test."""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.serving.local import start_scoring_server
from tests.infra import image_layers, kubelet
from tests.infra.conftest import named
from tests.serving.conftest import model_file, serving_stack
from tests.support.sandbox import Image, ImageDir, Network, network, published

pytestmark = [pytest.mark.infra, pytest.mark.integration]
NAME = "serve-iris"
# infra/serving-image/Dockerfile over the host's root: the venv's mlflow stands in for the image's.
SERVING_IMAGE = Image(
    env={"PATH": f"{image_layers.VENV_BIN}:{image_layers.STANDARD_PATH}", "HOME": "/tmp", "PYTHONUNBUFFERED": "1"},
    dirs=(ImageDir("/tmp", 0o1777),),
    user=(10001, 10001),
)
TRACKING_HOST = "mlflow.mlflow.svc.cluster.local"
SECRET = "mlflow-serving-reader"


@contextlib.contextmanager
def service_in(net: Network, port: int, host_port: int) -> Iterator[None]:
    """127.0.0.1:`port` inside the network forwards to the host's 127.0.0.1:`host_port`: a Service in
    front of the tracking server. The listener is made in the namespace (a thread that setns'd), the
    upstream sockets in the host's (the main thread's), so each side stays in its own network."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    made: list[socket.socket] = []

    def listen() -> None:
        fd = os.open(net.path, os.O_RDONLY)
        assert libc.setns(fd, 0x40000000) == 0  # CLONE_NEWNET
        os.close(fd)
        listener = socket.socket()
        listener.bind(("127.0.0.1", port))
        listener.listen(64)
        made.append(listener)

    maker = threading.Thread(target=listen)
    maker.start()
    maker.join()
    (listener,) = made
    listener.settimeout(0.2)
    stop = threading.Event()

    def pipe(a: socket.socket, b: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := a.recv(65536):
                b.sendall(data)
        with contextlib.suppress(OSError):
            b.shutdown(socket.SHUT_WR)

    def serve() -> None:
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            upstream = socket.create_connection(("127.0.0.1", host_port), timeout=30)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=pipe, args=(a, b), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(5)
        listener.close()


@pytest.fixture(scope="module")
def run(registry, image_packages, tmp_path_factory):
    models = tmp_path_factory.mktemp("served") / "models"
    model_file(models, 2, "serving: {alias: champion, ingress_namespaces: [apps]}")
    return serving_stack(registry, models, image_packages)


def _wait(url: str, proc, log: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the scoring server exited {proc.returncode}: {log.read_text()[-3000:]}"
        with contextlib.suppress(OSError, urllib.error.URLError):
            if urllib.request.urlopen(url + "/ping", timeout=2).status == 200:
                return
        time.sleep(1)
    raise AssertionError(f"no /ping within {timeout}s: {log.read_text()[-3000:]}")


def _invoke(url: str, payload: dict) -> dict:
    request = urllib.request.Request(
        url + "/invocations", data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.loads(answer.read())


def test_the_init_container_fetches_and_the_scoring_container_serves(run, registry, tmp_path):
    deployment = named(run, "Deployment", NAME)
    spec = deployment["spec"]["template"]["spec"]
    (init,), (scoring,) = spec["initContainers"], spec["containers"]
    volumes = kubelet.pod_volumes(run, spec, tmp_path / "pod")
    secrets = {(SECRET, "username"): registry.reader[0], (SECRET, "password"): registry.reader[1]}
    tracking_port = int(registry.uri.rsplit(":", 1)[1])
    hosts = {TRACKING_HOST: "127.0.0.1"}
    with network() as net, service_in(net, 80, tracking_port):
        fetch = kubelet.sandboxed(run, spec, init, SERVING_IMAGE, volumes, net, hosts, secrets=secrets)
        done = fetch.run(timeout=120)
        assert done.returncode == 0, done.stderr[-3000:]
        downloaded = volumes["model"]
        assert {"MLmodel", "requirements.txt", "serving_input_example.json"} <= {p.name for p in downloaded.iterdir()}
        assert "run_id" in (downloaded / "MLmodel").read_text()
        server = kubelet.sandboxed(run, spec, scoring, SERVING_IMAGE, volumes, net, hosts)
        assert not [k for k in server.env if k.startswith("MLFLOW_")]  # no credentials in the server
        log = tmp_path / "scoring.log"
        with server.started(log) as proc, published(net, 8080) as port:
            url = f"http://127.0.0.1:{port}"
            _wait(url, proc, log)
            assert urllib.request.urlopen(url + "/health", timeout=5).status == 200
            assert urllib.request.urlopen(url + "/version", timeout=5).read().decode().strip() == "3.17.2"
            example = json.loads((downloaded / "serving_input_example.json").read_text())
            predictions = _invoke(url, example)["predictions"]
            assert len(predictions) == 3 and set(predictions) <= {0, 1, 2}


def test_a_wrong_password_fails_the_init_container(run, registry, tmp_path):
    spec = named(run, "Deployment", NAME)["spec"]["template"]["spec"]
    volumes = kubelet.pod_volumes(run, spec, tmp_path / "pod")
    secrets = {(SECRET, "username"): registry.reader[0], (SECRET, "password"): "wrong"}
    with network() as net, service_in(net, 80, int(registry.uri.rsplit(":", 1)[1])):
        fetch = kubelet.sandboxed(
            run,
            spec,
            spec["initContainers"][0],
            SERVING_IMAGE,
            volumes,
            net,
            {TRACKING_HOST: "127.0.0.1"},
            secrets=secrets,
        )
        done = fetch.run()
    assert (
        (done.returncode != 0 and "401" in done.stderr) or "Unauthorized" in done.stderr or "credentials" in done.stderr
    )
    assert not list(volumes["model"].iterdir())  # nothing served from a failed fetch


def test_start_scoring_server_serves_a_pinned_version_locally(registry):
    port = socket.socket()
    port.bind(("127.0.0.1", 0))
    free = port.getsockname()[1]
    port.close()
    mlflow = str(Path(image_layers.VENV_BIN) / "mlflow")
    with start_scoring_server("iris", 1, free, env={**os.environ, **registry.reader_env()}, mlflow=mlflow) as s:
        example = json.loads((s.model_dir / "serving_input_example.json").read_text())
        assert len(_invoke(s.url, example)["predictions"]) == 3
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(s.url + "/ping", timeout=2)
