"""The layering contracts in pyproject.toml ([tool.importlinter]): the real tree keeps them, and a copy
of the tree with one forbidden import planted in it breaks them, naming the import; and the import
graph has no cycle, type-checking imports included (a planted one is found)."""

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
        ("registry/session.py", "reconciler.plan.references", "Packages are layered by stage of the flow"),
        ("fields/permissions.py", "reconciler.registry.rest", "Packages are layered by stage of the flow"),
        ("reviewblock.py", "reconciler.governance.policy", "Packages are layered by stage of the flow"),
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


def _cycles(graph) -> list[list[str]]:
    """The groups of reconciler's modules that import each other round (type-checking imports too)."""
    modules = sorted(m for m in graph.modules if m.startswith("reconciler"))
    imports = {
        m: sorted(i for i in graph.find_modules_directly_imported_by(m) if i.startswith("reconciler")) for m in modules
    }
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(m: str) -> None:  # Tarjan's strongly connected components
        order[m] = low[m] = len(order)
        stack.append(m)
        for i in imports[m]:
            if i not in order:
                visit(i)
                low[m] = min(low[m], low[i])
            elif i in stack:
                low[m] = min(low[m], order[i])
        if low[m] == order[m]:
            group = []
            while True:
                i = stack.pop()
                group.append(i)
                if i == m:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for m in modules:
        if m not in order:
            visit(m)
    return found


def test_no_module_imports_itself_round_a_cycle():
    import grimp

    assert _cycles(grimp.build_graph("reconciler")) == []


def test_a_planted_cycle_is_found(tmp_path):
    shutil.copytree(ROOT / "reconciler", tmp_path / "reconciler")
    schemacheck = tmp_path / "reconciler" / "files" / "schemacheck.py"
    schemacheck.write_text(schemacheck.read_text() + "\nfrom reconciler.files import yamlsource  # planted\n")
    code = (
        "import grimp\nfrom tests.unit.test_import_contracts import _cycles\n"
        "print(_cycles(grimp.build_graph('reconciler')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,  # the copy's reconciler first, the tests from the repository
        env={**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "['reconciler.files.schemacheck', 'reconciler.files.yamlsource']" in done.stdout
