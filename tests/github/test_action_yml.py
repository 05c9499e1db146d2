"""The root action.yml, run for real: its composite steps become one job of a workflow (the action's
inputs as the workflow's dispatch inputs, `github.action_path` this repository), run by the workflow
runner. The install step really installs this repository with pip into a fresh virtualenv whose
dependencies come from the test's (a .pth line), so nothing is downloaded but the build backend.
Slow (a wheel is built): marked integration."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tests.github import events
from tests.github.actions import noop
from tests.github.expressions import Evaluator
from tests.github.fake import FakeGitHub
from tests.github.harness import REPO
from tests.github.runner import WorkflowRunner

ACTION = YAML(typ="safe").load((REPO / "action.yml").read_text())


def _as_workflow(path: Path) -> None:
    inputs = {
        name: {"type": "string", "default": str(spec.get("default", ""))} for name, spec in ACTION["inputs"].items()
    }
    steps = YAML(typ="safe").load((REPO / "action.yml").read_text().replace("${{ github.action_path }}", str(REPO)))[
        "runs"
    ]["steps"]
    doc = {
        "name": "action.yml as a job",
        "on": {"workflow_dispatch": {"inputs": inputs}},
        "permissions": {},
        "jobs": {"action": {"runs-on": "ubuntu-24.04", "permissions": {"contents": "read"}, "steps": steps}},
    }
    YAML().dump(doc, path)


def _venv(root: Path) -> Path:
    """A fresh virtualenv that sees the test's packages (so pip installs only this project)."""
    subprocess.run([sys.executable, "-m", "venv", str(root)], check=True)
    parent = subprocess.run(
        [sys.executable, "-c", "import site; print(site.getsitepackages()[0])"], capture_output=True, text=True
    ).stdout.strip()
    (next((root / "lib").glob("python3*")) / "site-packages" / "parent.pth").write_text(parent + "\n")
    return root / "bin"


@pytest.mark.integration
def test_the_action_installs_the_reconciler_and_runs_a_command(
    fake_github: FakeGitHub, tmp_path: Path, expression_evaluator: Evaluator
):
    workflow = tmp_path / "action.yml-job.yml"
    _as_workflow(workflow)
    bin_dir = _venv(tmp_path / "venv")
    workspace = tmp_path / "workspace"
    (workspace / "models").mkdir(parents=True)
    (workspace / "models" / "churn.yaml").write_text("name: churn\nowners: [olivia]\n")
    fake_github.commit("main", {"README.md": "x\n"})
    event = events.workflow_dispatch(fake_github, "action.yml-job.yml", {"command": "validate --offline"})
    runner = WorkflowRunner(
        workflow,
        event,
        workspace,
        expression_evaluator,
        actions={"actions/setup-python": noop},
        base_env={"PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8"},
    )

    job = runner.run_job("action")

    assert job.result == "success", "\n".join(s.log for s in job.steps)
    install, command = job.steps[1], job.steps[2]
    assert "reconciler, version" in install.stdout
    assert (bin_dir / "reconciler").exists()  # installed into the job's Python, not the test's
    assert command.name == "Run reconciler validate --offline"
    assert "1 model file(s) in models are valid" in command.stdout
