"""The layering contracts in pyproject.toml ([tool.importlinter]): the real tree keeps them, and a copy
of the tree with one forbidden import planted in it breaks them, naming the import."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_tree_keeps_every_contract():
    done = _lint(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "planted", "contract"),
    [
        ("plan/values.py", "reconciler.apply.writer", "Planning neither applies nor reads the registry"),
        ("plan/render.py", "mlflow", "The pure core imports nothing from MLflow"),
        ("governance/gates.py", "reconciler.github.client", "Governance does not know GitHub"),
        ("files/yamltext.py", "reconciler.engine", "Packages are layered by stage of the flow"),
    ],
)
def test_a_planted_import_breaks_its_contract(tmp_path, module, planted, contract):
    shutil.copytree(ROOT / "reconciler", tmp_path / "reconciler", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "reconciler" / module
    target.write_text(target.read_text(encoding="utf-8") + f"\nimport {planted}  # planted\n", encoding="utf-8")
    done = _lint(tmp_path)
    assert done.returncode != 0, done.stdout
    assert f"{contract} BROKEN" in done.stdout
    assert f"reconciler.{module[:-3].replace('/', '.')} -> {planted}" in done.stdout
