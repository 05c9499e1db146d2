"""The files a pull request touches are loaded and checked as `validate` checks them; the others only
when the policy changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import ValidationErrors
from reconciler.github.files import load_changed, model_paths

POLICY = "owners: [lead]\nchanges: {approvals: 2, from: [model-owners]}\n"
LOOSE = "name: {n}\nreview: {{changes: {{approvals: 1}}}}\n"


def _repo(tmp_path: Path, files: dict[str, str]) -> Path:
    models = tmp_path / "models"
    models.mkdir()
    for name, text in files.items():
        (models / name).write_text(text)
    return models


def test_only_the_changed_files_are_read(tmp_path: Path):
    models = _repo(tmp_path, {"a.yaml": "name: a\n", "broken.yaml": "name: [\n", "c.yml": "name: c\n"})
    loaded = load_changed(models, ["models/a.yaml", "models/c.yml", "README.md", "models/sub/x.yaml"], "models")
    assert [m.name for m in loaded] == ["a", "c"]
    assert model_paths(["models/A.YAML", "models/sub/x.yaml", "other/y.yaml"], "models") == ["models/A.YAML"]


def test_a_changed_file_is_checked_against_the_checkouts_policy(tmp_path: Path):
    models = _repo(tmp_path, {"_policy.yaml": POLICY, "a.yaml": LOOSE.format(n="a")})
    with pytest.raises(ValidationErrors, match=r"models/a\.yaml:2: /review/changes/approvals"):
        load_changed(models, ["models/a.yaml"], "models")


def test_a_stricter_policy_is_checked_against_every_model(tmp_path: Path):
    models = _repo(tmp_path, {"_policy.yaml": POLICY, "untouched.yaml": LOOSE.format(n="untouched")})
    with pytest.raises(ValidationErrors, match=r"untouched\.yaml"):
        load_changed(models, ["models/_policy.yaml"], "models")


def test_two_files_for_one_model_are_refused(tmp_path: Path):
    models = _repo(tmp_path, {"churn.yaml": "name: churn\n", "churn.yml": "name: churn\n"})
    with pytest.raises(ValidationErrors, match="also declared in"):
        load_changed(models, ["models/churn.yml"], "models")


def test_every_bad_file_is_reported_at_once(tmp_path: Path):
    models = _repo(tmp_path, {"a.yaml": "name: b\n", "c.yaml": "name: c\naliases: {x: one}\n"})
    with pytest.raises(ValidationErrors) as e:
        load_changed(models, ["models/a.yaml", "models/c.yaml"], "models")
    assert len(e.value.errors) == 2


def test_a_link_anywhere_in_models_is_refused_whatever_the_change(tmp_path: Path):
    """The merge's apply loads only the changed files: a link the pull request does not touch (its
    target changed elsewhere) must stop it all the same."""
    models = _repo(tmp_path, {"a.yaml": "name: a\n"})
    (tmp_path / "config.yaml").write_text("name: b\n")
    (models / "b.yaml").symlink_to("../config.yaml")
    with pytest.raises(ValidationErrors, match=r"models/b\.yaml: a symbolic link"):
        load_changed(models, ["models/a.yaml"], "models")
    with pytest.raises(ValidationErrors, match=r"models/b\.yaml: a symbolic link"):
        load_changed(models, ["config.yaml"], "models")
