"""Start MLflow's scoring server for a pinned version on this machine (demos, smoke checks).

The same two commands the serving containers run (reconciler/serving/commands.py): download the
version's artifacts from the tracking server, then serve the local copy on loopback.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from reconciler.errors import ReconcilerError
from reconciler.serving.commands import FETCH_ENV, Pinned, download_command, serve_command


class ScoringServerError(ReconcilerError):
    """The artifacts could not be fetched or the scoring server did not come up."""


@dataclass(frozen=True)
class ScoringServer:
    url: str  # http://127.0.0.1:<port>
    model_dir: Path
    pid: int


def _mlflow(argv: list[str], mlflow: str) -> list[str]:
    return [mlflow, *argv[1:]]


def _fetch(pinned: Pinned, into: Path, env: Mapping[str, str], mlflow: str, timeout: float) -> None:
    done = subprocess.run(
        _mlflow(download_command(pinned, str(into)), mlflow),
        env={**env, **FETCH_ENV},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1][:300]
        raise ScoringServerError(f"{pinned.uri}: artifacts download failed ({last}); check the tracking URI and user")


def _wait_ready(url: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ScoringServerError(f"the scoring server exited with code {proc.returncode}; run it to see why")
        with contextlib.suppress(OSError, urllib.error.URLError), urllib.request.urlopen(f"{url}/ping", timeout=2) as a:
            if a.status == 200:
                return
        time.sleep(0.5)
    raise ScoringServerError(f"the scoring server did not answer {url}/ping within {timeout:.0f}s")


@contextlib.contextmanager
def start_scoring_server(
    model: str,
    version: int,
    port: int,
    env: Mapping[str, str] | None = None,
    mlflow: str = "mlflow",
    timeout: float = 120.0,
) -> Iterator[ScoringServer]:
    """Serve `models:/<model>/<version>` on 127.0.0.1:`port` until the block ends.

    `env` holds MLFLOW_TRACKING_URI (and a user's MLFLOW_TRACKING_USERNAME/PASSWORD); default: this
    process's environment. `mlflow`: the CLI to run (e.g. a virtualenv's bin/mlflow).
    """
    environment = dict(os.environ if env is None else env)
    if os.sep in mlflow:  # its environment's other commands too (the server execs uvicorn)
        environment["PATH"] = os.pathsep.join([os.path.dirname(mlflow), environment.get("PATH", os.defpath)])
    pinned = Pinned(model, int(version))
    workdir = Path(tempfile.mkdtemp(prefix="scoring-"))
    proc: subprocess.Popen | None = None
    try:
        _fetch(pinned, workdir / "model", environment, mlflow, timeout)
        argv = _mlflow(serve_command(str(workdir / "model"), port, "127.0.0.1"), mlflow)
        proc = subprocess.Popen(argv, env=environment, start_new_session=True, stdout=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        _wait_ready(url, proc, timeout)
        yield ScoringServer(url, workdir / "model", proc.pid)
    finally:
        if proc is not None:
            _stop(proc)
        shutil.rmtree(workdir, ignore_errors=True)


def _descendants(pid: int) -> list[int]:
    """Every process below `pid` (Linux /proc): MLflow's backend may start uvicorn in a session of its own."""
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                children = [int(c) for c in task.read_text().split()]
                found.extend(children)
                todo.extend(children)
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the server and everything it started, SIGKILL to what is left after 15 s."""
    tree = [proc.pid, *_descendants(proc.pid)]
    for pid in tree:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(_alive(p) for p in tree[1:]):
        time.sleep(0.1)
    for pid in tree:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    proc.wait()
