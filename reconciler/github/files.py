"""The model files a pull request (or a merge) touches, loaded and checked as `reconciler validate`
checks them, without reading the other thousand: those are as the base branch has them, and the
base branch was checked when they were merged. All of them are loaded only when the policy file
changes, since a stricter policy can make an untouched model's `review:` block a loosening.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath

from reconciler.errors import DesiredStateError, ValidationErrors
from reconciler.files import desired, modelfiles
from reconciler.governance.policy import POLICY_FILE, check_models, load_repository_policy
from reconciler.governance.repository import load_checked
from reconciler.state import DesiredModel


def model_paths(changed: Iterable[str], prefix: str) -> list[str]:
    """Changed files directly in models/ named like model files (model files and settings like _policy.yaml)."""
    return modelfiles.changed_paths(changed, prefix)


def refused(models_dir: Path) -> list[DesiredStateError]:
    """Every entry of the checkout's models/ that the selection rule refuses (symbolic links,
    directories named like files...), whether or not the pull request touches it: a link on the base
    branch lets a change to its target elsewhere change a model without a change in models/."""
    if not (models_dir.is_dir() or models_dir.is_symlink()):
        return []
    found = modelfiles.selection(models_dir)
    return [*found.errors, *found.policy_errors]


def load_changed(models_dir: Path, changed: Sequence[str], prefix: str) -> list[DesiredModel]:
    """The changed model files that exist in the checkout, checked against the checkout's policy;
    every problem reported (one line each) before failing, as `validate` reports them."""
    refused_ = refused(models_dir)
    if refused_:
        raise ValidationErrors(refused_)
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
    models/churn.yml next to models/churn.yaml, and every entry that is not a regular file)."""
    names = [PurePosixPath(p).name for p in paths]
    stems = {modelfiles.fold(PurePosixPath(n).stem) for n in names if not modelfiles.is_settings(n)}
    return [p for p in desired.model_files(models_dir) if modelfiles.fold(p.stem) in stems] if stems else []


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
