"""Installs the npm test dependencies pinned in tests/js/package-lock.json, once, with `npm ci`.

The packages (GitHub's OpenAPI description, real webhook payloads, GitHub's expression evaluator)
go to tests/js/node_modules (gitignored). A stamp named after the lock file's hash says the install
finished; an exclusive file lock makes two pytest processes starting at once install it only once.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
from pathlib import Path

JS_DIR = Path(__file__).resolve().parents[1] / "js"
NODE_MODULES = JS_DIR / "node_modules"


class NpmUnavailable(RuntimeError):
    """npm is missing or `npm ci` failed: the GitHub contract tests cannot run."""


def _stamp() -> Path:
    digest = hashlib.sha256((JS_DIR / "package-lock.json").read_bytes()).hexdigest()[:16]
    return NODE_MODULES / f".installed-{digest}"


def ensure_node_modules() -> Path:
    """The installed node_modules directory, running `npm ci` first if the lock file changed."""
    if _stamp().exists():
        return NODE_MODULES
    npm = shutil.which("npm")
    if npm is None:
        raise NpmUnavailable(
            "npm is not on PATH: the GitHub contract tests need Node.js 20+ and npm "
            "(Debian: apt-get install nodejs npm) to install tests/js/package-lock.json"
        )
    with open(JS_DIR / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _stamp().exists():
            _npm_ci(npm)
    return NODE_MODULES


def _npm_ci(npm: str) -> None:
    done = subprocess.run(
        [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=JS_DIR,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise NpmUnavailable(f"npm ci in {JS_DIR} failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
    _stamp().touch()


def node_binary() -> str:
    node = shutil.which("node")
    if node is None:
        raise NpmUnavailable("node is not on PATH: the workflow runner evaluates expressions with Node.js 20+")
    return node
