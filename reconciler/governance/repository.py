"""The review policy and the model files of a checkout, loaded together.

`load_checked` is what validate, plan and apply load: every model file, the policy file, and
every model's `review:` against the policy; every problem reported, one line each, before
anything else runs. `load_base` reads the base branch's files to judge a pull request by: it
skips a model file that does not load (that model's changes then need the policy's owners, as a
new model's do) but refuses a policy file that does not load, since nothing could be judged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.errors import DesiredStateError, ValidationErrors
from reconciler.files import desired
from reconciler.governance.policy import ReviewPolicy, check_models, load_repository_policy
from reconciler.state import DesiredModel, frozen_map


def load_checked(models_dir: Path) -> tuple[ReviewPolicy, list[DesiredModel]]:
    errors: list[DesiredStateError] = []
    models: list[DesiredModel] | None = None
    policy: ReviewPolicy | None = None
    try:
        models = desired.load_models(models_dir)
    except ValidationErrors as e:
        errors += e.errors
    try:
        policy = load_repository_policy(models_dir)
    except DesiredStateError as e:
        errors.append(e)
    if models is not None and policy is not None:
        errors += check_models(policy, models)
    if errors:
        raise ValidationErrors(errors)
    assert models is not None and policy is not None
    return policy, models


@dataclass(frozen=True)
class Base:
    """The base branch's rules: its policy, and its model files by model name."""

    policy: ReviewPolicy = field(default_factory=ReviewPolicy)
    models: Mapping[str, DesiredModel] = field(default_factory=frozen_map)
    skipped: tuple[str, ...] = ()  # model files that did not load: one message each


def load_base(models_dir: Path) -> Base:
    """A checkout of the base branch (a missing models/ directory is an empty base)."""
    if not models_dir.is_dir():
        return Base()
    policy = load_repository_policy(models_dir)
    models: dict[str, DesiredModel] = {}
    skipped = []
    for path in desired.model_files(models_dir):
        try:
            m = desired.load_file(path)
        except DesiredStateError as e:
            skipped.append(str(e))
            continue
        models.setdefault(m.name, m)
    return Base(policy, frozen_map(models), tuple(skipped))
