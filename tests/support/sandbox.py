"""Containers emulated with Linux namespaces, to run a container's command as its manifest gives it.

What a container runtime does, and what this does instead (the rest is exactly the manifest):
- the image: the host's root stands in for the image's layers, with the files and directories the
  Dockerfile adds laid over it (overlayfs, only inside the container's mount namespace) and the
  image's ENV merged under the manifest's env (the manifest wins, as in Docker and the kubelet);
- the root file system read-only when the manifest says so, volumes bind-mounted where it says,
  read-only or not, from host directories the caller prepared as the runtime would;
- the user and group the manifest names (setgid/setuid, no supplementary groups but fsGroup);
- a network namespace per pod or Docker network, with only loopback: services the manifest names
  (`postgres`, `minio.mlflow.svc.cluster.local`, ...) resolve to 127.0.0.1 there through the
  container's /etc/hosts, on the ports the manifest gives, so nothing collides with the host's.

Needs root (the test machines and CI run as root): creating mount namespaces, overlays and other
users' processes does. Nothing outside the namespaces changes: the overlays' upper layers are
temporary directories.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

LAUNCHER = Path(__file__).resolve().parent / "sandbox_launch.py"


class SandboxUnavailable(RuntimeError):
    pass


def _require_root() -> None:
    if os.geteuid() != 0:
        raise SandboxUnavailable(
            "tests/support/sandbox.py runs containers' commands in namespaces and needs root "
            "(as `make test` runs in CI)"
        )


class Network:
    """A network namespace with loopback up: a pod's network, or a Docker network's."""

    def __init__(self) -> None:
        _require_root()
        self.proc = subprocess.Popen(
            ["unshare", "--net", "sh", "-c", "ip link set lo up && echo up && exec sleep 2147483647"],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        if self.proc.stdout.readline().strip() != "up":
            raise SandboxUnavailable("could not create a network namespace (unshare --net)")
        self.path = f"/proc/{self.proc.pid}/ns/net"

    def enter(self) -> list[str]:
        """The command prefix that runs a process in this network."""
        return ["nsenter", f"--net={self.path}", "--"]

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(10)


@contextlib.contextmanager
def network() -> Iterator[Network]:
    net = Network()
    try:
        yield net
    finally:
        net.close()


@dataclass(frozen=True)
class ImageFile:
    path: str
    content: bytes
    mode: int = 0o644
    uid: int = 0
    gid: int = 0


@dataclass(frozen=True)
class ImageDir:
    path: str
    mode: int = 0o755
    uid: int = 0
    gid: int = 0


@dataclass(frozen=True)
class Image:
    """What an image adds over the host's root (which stands in for its base layers)."""

    env: dict[str, str] = field(default_factory=dict)
    files: tuple[ImageFile, ...] = ()
    dirs: tuple[ImageDir, ...] = ()
    user: tuple[int, int] | None = None  # the image's USER, used when the manifest names none
    workdir: str = "/"

    def directory(self, path: str) -> ImageDir | None:
        return next((d for d in self.dirs if d.path == path), None)


@dataclass(frozen=True)
class Volume:
    path: str  # in the container
    source: Path  # on the host
    read_only: bool = False


@dataclass
class Container:
    """A container's process as its manifest gives it."""

    argv: list[str]
    env: dict[str, str]
    image: Image
    user: tuple[int, int] | None = None
    read_only_root: bool = False
    volumes: list[Volume] = field(default_factory=list)
    hosts: dict[str, str] = field(default_factory=dict)
    net: Network | None = None
    groups: list[int] = field(default_factory=list)

    def _spec(self, scratch: Path) -> Path:
        user = self.user or self.image.user
        spec = {
            "argv": self.argv,
            "env": {**self.image.env, **self.env},
            "user": list(user) if user else None,
            "groups": self.groups,
            "workdir": self.image.workdir,
            "read_only_root": self.read_only_root,
            "image_files": [
                {"path": f.path, "content": f.content.hex(), "mode": f.mode, "uid": f.uid, "gid": f.gid}
                for f in self.image.files
            ],
            "image_dirs": [{"path": d.path, "mode": d.mode, "uid": d.uid, "gid": d.gid} for d in self.image.dirs],
            "volumes": [{"path": v.path, "source": str(v.source), "read_only": v.read_only} for v in self.volumes],
            "hosts": self.hosts,
            "scratch": str(scratch),
            # the interpreter the image's python stands in for, wherever this machine keeps it
            "expose": [os.path.realpath(sys.base_prefix)],
        }
        path = scratch / "spec.json"
        path.write_text(json.dumps(spec))
        return path

    def _command(self, scratch: Path) -> list[str]:
        _require_root()
        prefix = self.net.enter() if self.net else []
        spec = self._spec(scratch)
        namespace = ["unshare", "--mount", "--propagation", "private"]
        return [*prefix, *namespace, sys.executable, "-I", str(LAUNCHER), str(spec)]

    def run(self, timeout: float = 300) -> subprocess.CompletedProcess:
        with _scratch() as scratch:
            return subprocess.run(self._command(scratch), capture_output=True, text=True, timeout=timeout)

    @contextlib.contextmanager
    def started(self, log: Path) -> Iterator[subprocess.Popen]:
        """The process running, its output in `log`; stopped (SIGTERM, then SIGKILL) at exit."""
        with _scratch() as scratch, open(log, "w") as out:
            proc = subprocess.Popen(
                self._command(scratch), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
            try:
                yield proc
            finally:
                _stop_group(proc)


def _stop_group(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


@contextlib.contextmanager
def _scratch() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="mlflow-gitops-sandbox-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def volume_dir(root: Path, name: str, mode: int = 0o755, uid: int = 0, gid: int = 0) -> Path:
    """A host directory to mount as a volume, with the owner and mode its runtime gives it."""
    path = root / name
    path.mkdir(parents=True, exist_ok=True)
    os.chown(path, uid, gid)
    os.chmod(path, mode)
    return path


@contextlib.contextmanager
def published(net: Network, port: int) -> Iterator[int]:
    """`port` of the network's loopback, reachable from the host at 127.0.0.1:<returned port>: what
    Docker's port publishing and a Service's port-forward do. A thread in the network namespace
    makes each upstream connection (setns moves only the calling thread)."""
    import ctypes

    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    host_port = listener.getsockname()[1]
    stop = threading.Event()

    def pipe(a: socket.socket, b: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := a.recv(65536):
                b.sendall(data)
        with contextlib.suppress(OSError):
            b.shutdown(socket.SHUT_WR)

    def serve() -> None:
        fd = os.open(net.path, os.O_RDONLY)
        if libc.setns(fd, 0x40000000) != 0:  # CLONE_NEWNET
            raise OSError(ctypes.get_errno(), "setns")
        os.close(fd)
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", port), timeout=30)
            except OSError:
                client.close()
                continue
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=pipe, args=(a, b), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield host_port
    finally:
        stop.set()
        thread.join(5)
        listener.close()
