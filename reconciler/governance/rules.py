"""Which approvals a pull request needs, judged by the BASE branch's files. Pure: no I/O.

One requirement per review tier a changed file triggers: any change to a model file needs the
`changes` tier from the model's base owners; a protected move in the plan needs the `protected`
tier too (they add up); a model file the base branch does not have needs the base policy's
owners, as does a change to models/_policy.yaml (or another models/_* settings file). A model
that the plan changes although the pull request does not touch its file (the registry drifted,
or a policy like keep_latest acts) needs its owners too: merging applies those changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import PurePosixPath

from reconciler.files import modelfiles
from reconciler.governance.policy import ModelRules, ReviewPolicy, combined
from reconciler.names import POLICY_FILE
from reconciler.plan.values import Change, Plan
from reconciler.state import DesiredModel


class Kind(str, Enum):
    POLICY = "policy"  # models/_policy.yaml or another models/_* settings file
    NEW_MODEL = "new-model"  # a model file the base branch does not have
    MODEL = "model"  # any change to a model file: the `changes` tier
    PROTECTED = "protected"  # a protected move: the `protected` tier
    REGISTRY = "registry"  # the plan changes a model whose file the pull request leaves alone


@dataclass(frozen=True)
class Requirement:
    """`approvals` approvals from different reviewers in `groups` (logins and @org/teams, as written
    in the base branch's files; "model-owners" already replaced by the model's owners)."""

    subject: str  # the file, as the pull request names it: "models/churn.yaml"
    kind: Kind
    approvals: int
    groups: tuple[str, ...]
    why: str  # in our words; names no value from the files
    model: str | None = None
    changes: tuple[Change, ...] = ()  # the plan's changes this requirement covers

    @property
    def targets(self) -> tuple[str, ...]:
        """What a protected requirement protects: "alias[champion]", "v3 stage"."""
        return tuple(c.address.label() for c in self.changes) if self.protected else ()

    @property
    def protected(self) -> bool:
        return self.kind is Kind.PROTECTED


def model_file_paths(changed_paths: Iterable[str], models_dir: str = "models") -> list[PurePosixPath]:
    """The changed paths that are files directly in `models_dir` with a YAML suffix (any case)."""
    paths = modelfiles.changed_paths((p.removeprefix("./") for p in changed_paths), models_dir)
    return [PurePosixPath(p) for p in paths]


def requirements(
    plan: Plan,
    base_models: Mapping[str, DesiredModel],
    base_policy: ReviewPolicy,
    changed_paths: Iterable[str],
    models_dir: str = "models",
) -> tuple[Requirement, ...]:
    """What the pull request needs. `plan` is the PR's head files planned against the registry;
    `base_models` (by model name) and `base_policy` are the base branch's files."""
    by_model = plan.by_model()
    head = {m.name for m in plan.desired}
    out: list[Requirement] = []
    seen: set[str] = set()
    for path in model_file_paths(changed_paths, models_dir):
        if modelfiles.is_settings(path.name):
            out.append(_settings(str(path), base_policy))
            continue
        name = path.stem
        seen.add(name)
        base = base_models.get(name)
        rules = combined(base_policy, base, name)
        out.append(_file(str(path), name, base, rules, by_model.get(name, ()), name in head))
        out += _protected(str(path), rules, by_model.get(name, ()))
    for name, changes in sorted(by_model.items()):
        if name not in seen:
            subject = f"{models_dir.strip('/')}/{_file_name(base_models.get(name), name)}"
            rules = combined(base_policy, base_models.get(name), name)
            out.append(_registry(subject, rules, changes))
            out += _protected(subject, rules, changes)
    return tuple(out)


def _file_name(model: DesiredModel | None, name: str) -> str:
    """The base file's name (it may be .yml); the source itself may be a temporary checkout's path."""
    return PurePosixPath(model.source.replace("\\", "/")).name if model is not None else f"{name}.yaml"


def _settings(subject: str, policy: ReviewPolicy) -> Requirement:
    what = "changes the review policy" if PurePosixPath(subject).name == POLICY_FILE else "changes a settings file"
    why = f"{what}: the base policy's owners approve it"
    return Requirement(subject, Kind.POLICY, max(1, policy.changes.approvals), policy.owners, why)


def _file(
    subject: str, name: str, base: DesiredModel | None, rules: ModelRules, changes: Sequence[Change], in_head: bool
) -> Requirement:
    if base is None:
        return Requirement(
            subject,
            Kind.NEW_MODEL,
            max(1, rules.changes.approvals),
            rules.owners,  # no base file: the policy's owners
            "adds a model file: the base policy's owners approve new models",
            name,
            tuple(changes),
        )
    why = "changes the model file" if in_head else "removes the model file"
    return Requirement(
        subject, Kind.MODEL, rules.changes.approvals, rules.approvers(rules.changes), why, name, tuple(changes)
    )


def _registry(subject: str, rules: ModelRules, changes: Sequence[Change]) -> Requirement:
    return Requirement(
        subject,
        Kind.REGISTRY,
        rules.changes.approvals,
        rules.approvers(rules.changes),
        "the plan changes this model in the registry, though the pull request leaves its file alone",
        rules.model,
        tuple(changes),
    )


def _protected(subject: str, rules: ModelRules, changes: Sequence[Change]) -> list[Requirement]:
    moves = tuple(c for c in changes if rules.protects(c))
    if not moves:
        return []
    return [
        Requirement(
            subject,
            Kind.PROTECTED,
            rules.protected.approvals,
            rules.approvers(rules.protected),
            "moves a protected alias or stage",
            rules.model,
            moves,
        )
    ]
