"""Run a `reconciler github …` command in this process, as a workflow step would run it: in a checkout
of the event's commit, with GitHub Actions' environment pointing at the fake API. Faster than the
workflow runner (no new interpreter, MLflow imported once), for the many cases; the runner runs the
workflows themselves (tests/github/test_workflow_runs.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from reconciler.cli import main
from tests.github.actions import checkout
from tests.github.events import Event
from tests.github.fake import FakeGitHub
from tests.github.runner import ActionCall

PR_PERMISSIONS = {"contents": "read", "pull-requests": "write", "statuses": "write"}
APPLY_PERMISSIONS = {"contents": "read", "pull-requests": "write"}


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str
    outputs: str
    summary: str


class Step:
    """One command in a fresh checkout of `event.sha`, like a job's step."""

    def __init__(self, gh: FakeGitHub, root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture):
        self.gh, self.root, self.mp, self.capsys = gh, root, monkeypatch, capsys
        self.count = 0

    def prepare(
        self, event: Event, env: Mapping[str, str], permissions: Mapping[str, str], read_only: bool = False
    ) -> tuple[Path, dict[str, str], dict[str, Path]]:
        """A checkout of the event's commit, and the step's environment (GITHUB_* and `env`)."""
        self.count += 1
        work = self.root / f"step-{self.count}"
        workspace = work / "workspace"
        token = self.gh.actions_token(dict(permissions), read_only=read_only)
        result = checkout(self.gh.git)(
            ActionCall("actions/checkout", {"fetch-depth": "2"}, {}, workspace, {"sha": event.sha, "token": token})
        )
        assert result.outcome == "success", result.log
        files = {name: work / name for name in ("event.json", "output", "summary")}
        files["event.json"].write_text(json.dumps(event.payload))
        files["output"].write_text("")
        files["summary"].write_text("")
        values = {
            "GITHUB_API_URL": self.gh.url,
            "GITHUB_REPOSITORY": self.gh.repo.full_name,
            "GITHUB_EVENT_NAME": event.name,
            "GITHUB_EVENT_PATH": str(files["event.json"]),
            "GITHUB_SHA": event.sha,
            "GITHUB_TOKEN": token,
            "GITHUB_ACTOR": event.actor,
            "GITHUB_RUN_ID": str(4000 + self.count),
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_OUTPUT": str(files["output"]),
            "GITHUB_STEP_SUMMARY": str(files["summary"]),
            "XDG_CACHE_HOME": str(self.root / "cache"),
            **env,
        }
        return workspace, values, files

    def run(
        self,
        args: list[str],
        event: Event,
        env: Mapping[str, str] | None = None,
        permissions: Mapping[str, str] = PR_PERMISSIONS,
        read_only: bool = False,
    ) -> Ran:
        workspace, values, files = self.prepare(event, env or {}, permissions, read_only)
        for key in list(os.environ):
            if key.startswith(("GITHUB_", "MLFLOW_", "RECONCILER_")):
                self.mp.delenv(key)
        for key, value in values.items():
            self.mp.setenv(key, value)
        self.mp.chdir(workspace)
        self.capsys.readouterr()
        try:
            main(args)
            code = 0
        except SystemExit as e:
            code = int(e.code or 0)
        captured = self.capsys.readouterr()
        return Ran(code, captured.out, captured.err, files["output"].read_text(), files["summary"].read_text())

    def start(
        self, args: list[str], event: Event, env: Mapping[str, str], permissions: Mapping[str, str]
    ) -> subprocess.Popen:
        """The same step as its own process (to run steps at the same time)."""
        workspace, values, _ = self.prepare(event, env, permissions)
        base = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "MLFLOW_", "RECONCILER_"))}
        command = [sys.executable, "-m", "reconciler", *args]
        return subprocess.Popen(
            command, cwd=workspace, env={**base, **values}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
