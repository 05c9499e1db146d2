"""The model files a pull request (or a merge) touches, loaded and checked as `reconciler validate`
checks them, without reading the other thousand: those are as the base branch has them, and the
base branch was checked when they were merged. All of them are loaded only when the policy file
changes, since a stricter policy can make an untouched model's `review:` block a loosening.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath

from reconciler import desired
from reconciler.errors import DesiredStateError, ValidationErrors
from reconciler.governance.policy import POLICY_FILE, check_models, load_repository_policy
from reconciler.governance.repository import load_checked
from reconciler.state import DesiredModel

SUFFIXES = (".yaml", ".yml")


def model_paths(changed: Iterable[str], prefix: str) -> list[str]:
    """Changed files directly in models/ with a YAML suffix (model files and settings like _policy.yaml)."""
    root = PurePosixPath(prefix)
    return sorted(p for p in changed if PurePosixPath(p).parent == root and p.lower().endswith(SUFFIXES))


def load_changed(models_dir: Path, changed: Sequence[str], prefix: str) -> list[DesiredModel]:
    """The changed model files that exist in the checkout, checked against the checkout's policy;
    every problem reported (one line each) before failing, as `validate` reports them."""
    paths = model_paths(changed, prefix)
    if any(PurePosixPath(p).name == POLICY_FILE for p in paths):
        return _in_scope(load_checked(models_dir)[1], paths)
    models, errors = _load(_files(models_dir, paths))
    try:
        errors += check_models(load_repository_policy(models_dir), models)
    except DesiredStateError as e:
        errors.append(e)
    if errors:
        raise ValidationErrors(errors)
    return _in_scope(models, paths)


def _files(models_dir: Path, paths: Sequence[str]) -> list[Path]:
    """The changed model files that exist (`model_files` refuses two files naming one model, as
    models/churn.yml next to models/churn.yaml)."""
    stems = {PurePosixPath(p).stem.lower() for p in paths if not PurePosixPath(p).name.startswith("_")}
    return [p for p in desired.model_files(models_dir) if p.stem.lower() in stems] if stems else []


def _load(paths: Sequence[Path]) -> tuple[list[DesiredModel], list[DesiredStateError]]:
    models, errors = [], []
    for path in paths:
        try:
            models.append(desired.load_file(path))
        except DesiredStateError as e:
            errors.append(e)
    return models, errors


def _in_scope(models: Sequence[DesiredModel], paths: Sequence[str]) -> list[DesiredModel]:
    """The models whose files are among `paths` (all directly in models/: compared by file name)."""
    wanted = {PurePosixPath(p).name for p in paths}
    return [m for m in models if Path(m.source).name in wanted]
