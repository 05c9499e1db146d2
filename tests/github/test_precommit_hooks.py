"""The pre-commit hooks other repositories use: each hook's `entry` run as pre-commit runs it (no
file names passed), in a config repository, on the files its `files` pattern selects."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from ruamel.yaml import YAML

from tests.github.harness import REPO

HOOKS = {h["id"]: h for h in YAML(typ="safe").load((REPO / ".pre-commit-hooks.yaml").read_text())}


def _run(hook: str, repo: Path) -> subprocess.CompletedProcess:
    entry = shlex.split(HOOKS[hook]["entry"])
    binary = str(Path(sys.executable).parent / entry[0])
    return subprocess.run([binary, *entry[1:]], cwd=repo, capture_output=True, text=True, timeout=120)


def test_the_hooks_are_well_formed_and_select_the_right_files():
    assert set(HOOKS) == {"reconciler-validate", "reconciler-codeowners"}
    for hook in HOOKS.values():
        assert (
            hook["language"] == "python" and hook["pass_filenames"] is False and hook["entry"].startswith("reconciler ")
        )
    validate, owners = (re.compile(HOOKS[h]["files"]) for h in ("reconciler-validate", "reconciler-codeowners"))
    assert validate.search("models/churn.yaml") and validate.search("models/_policy.yml")
    assert validate.search("models/Churn.YAML") and owners.search("models/Churn.YML")  # the loader reads any case
    assert not validate.search("README.md") and not validate.search("docs/models/x.yaml")
    assert owners.search(".github/CODEOWNERS") and owners.search("models/churn.yaml")


def test_the_hooks_run_when_a_commit_adds_a_symbolic_link_to_models():
    """pre-commit's default `types: [file]` drops a link (identify tags it `symlink` only), so a
    commit adding models/x.yaml -> elsewhere ran neither hook; `validate` refuses links."""
    for hook in HOOKS.values():
        assert hook.get("types") == [] and set(hook["types_or"]) == {"file", "symlink"}, hook["id"]


def test_validate_refuses_a_link_in_models(tmp_path: Path):
    (tmp_path / "models").mkdir()
    (tmp_path / "churn.yaml").write_text("name: churn\n")
    (tmp_path / "models" / "churn.yaml").symlink_to("../churn.yaml")
    done = _run("reconciler-validate", tmp_path)
    assert done.returncode == 1 and "models/churn.yaml: a symbolic link" in done.stderr


def test_validate_fails_on_a_bad_file_and_codeowners_on_a_stale_file(tmp_path: Path):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "churn.yaml").write_text("name: churn\nowners: [olivia]\n")

    assert _run("reconciler-validate", tmp_path).returncode == 0
    stale = _run("reconciler-codeowners", tmp_path)
    assert stale.returncode == 1 and "reconciler codeowners" in stale.stderr
    subprocess.run([str(Path(sys.executable).parent / "reconciler"), "codeowners"], cwd=tmp_path, check=True)
    assert _run("reconciler-codeowners", tmp_path).returncode == 0

    (tmp_path / "models" / "churn.yaml").write_text("name: churn\naliases: {champion: one}\n")
    broken = _run("reconciler-validate", tmp_path)
    assert broken.returncode == 1 and "models/churn.yaml:2" in broken.stderr
