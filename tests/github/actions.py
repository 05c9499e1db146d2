"""Handlers for `uses:` steps that tests commonly need.

actions={"actions/checkout": checkout(gh.git), "actions/setup-python": noop}
"""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

from .gitrepo import GitRepo
from .runner import ActionCall, ActionResult


def noop(call: ActionCall) -> ActionResult:
    """For actions whose effect the machine already has (setup-python: the test's Python is on PATH)."""
    return ActionResult(log=f"{call.uses}: nothing to do here")


def checkout(repo: GitRepo):
    """actions/checkout from the fake's repository: `ref` (default GITHUB_SHA), `fetch-depth` (default 1:
    a shallow clone, no history), `path`, and `persist-credentials` (default true: the token is left in
    .git/config for later steps, as the real action does). The repository is the remote `origin`, as
    the real action sets it, so later steps can `git fetch origin <sha>`."""

    def handler(call: ActionCall) -> ActionResult:
        ref = call.inputs.get("ref") or call.github["sha"]
        sha = repo.resolve(ref) or repo.resolve(f"refs/heads/{ref}") or repo.resolve(f"refs/{ref}")
        if sha is None:
            return ActionResult("failure", log=f"checkout: no ref {ref!r} in the repository")
        dest = call.workspace / call.inputs.get("path", "")
        depth = int(call.inputs.get("fetch-depth") or 1)
        _git(dest, "init", "--quiet")
        _git(dest, "remote", "add", "origin", f"file://{repo.path}")  # as the real action names the repository
        _git(dest, "fetch", "--quiet", "--no-tags", *([f"--depth={depth}"] if depth > 0 else []), "origin", sha)
        _git(dest, "checkout", "--quiet", "--detach", "FETCH_HEAD")
        if call.inputs.get("persist-credentials", "true") != "false":
            secret = base64.b64encode(f"x-access-token:{call.github['token']}".encode()).decode()
            _git(dest, "config", "http.https://github.com/.extraheader", f"AUTHORIZATION: basic {secret}")
        return ActionResult(outputs={"commit": sha, "ref": ref}, log=f"checked out {sha}")

    return handler


def _git(cwd: Path, *args: str) -> None:
    cwd.mkdir(parents=True, exist_ok=True)
    env = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null", "PATH": "/usr/bin:/bin", "HOME": str(cwd)}
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True)
