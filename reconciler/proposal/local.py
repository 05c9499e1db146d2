"""The local half of `reconciler propose`: read the model file and its rule, read the registry,
edit the text. Returns what the command writes and what `--open-pr` posts; writes nothing itself."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.errors import DesiredStateError
from reconciler.files import modelnames
from reconciler.files.convert import from_document
from reconciler.files.desired import check_document, check_names, origin_for
from reconciler.files.modelfiles import model_path
from reconciler.files.yamlsource import parse, read_text
from reconciler.governance.policy import combined, load_repository_policy
from reconciler.proposal import registry
from reconciler.proposal.edit import Edit, propose_text
from reconciler.proposal.evidence import Evidence, gather
from reconciler.proposal.rule import ProposeRule, check_not_protected, read_rule
from reconciler.registry.target import Target
from reconciler.text import printable


@dataclass(frozen=True)
class Proposal:
    path: Path
    before: str
    edit: Edit
    rule: ProposeRule
    evidence: Evidence

    @property
    def changed(self) -> bool:
        return self.edit.text != self.before


def model_file(models_dir: Path, name: str, needs: str = "propose") -> Path:
    """The model's file, or one line saying why there is none: no models directory, a name no file
    can hold, or the command (quoted for a shell, as the plan's notes write it) that writes one.
    `needs`: "propose" (the file's `propose:` rule) or "gates" (the gates its review policy sets)."""
    if not models_dir.is_dir():
        raise DesiredStateError(
            f"{printable(str(models_dir))}: no such directory; run from the repository root or pass --models-dir"
        )
    why = modelnames.unmanageable(name)
    if why is not None:
        raise DesiredStateError(f"model {name!r}: {why}")
    path = model_path(models_dir, name)
    if not path.exists() and not path.is_symlink():
        then = "add a `propose:` section" if needs == "propose" else "set its gates (`review:` or models/_policy.yaml)"
        said = "what its new versions get" if needs == "propose" else "which gates its runs face"
        raise DesiredStateError(
            f"{printable(str(path))}: model {name!r} has no file, so nothing says {said}; "
            f"run `{modelnames.import_command(name)}` and {then}, in a reviewed pull request"
        )
    return path


def prepare(models_dir: Path, name: str, version: int, target: Target, client: Any) -> Proposal:
    """Everything checked before anything is read from the registry, and the edit checked before it is written."""
    path = model_file(models_dir, name)
    text = read_text(path)
    doc = check_document(parse(text, str(path)))
    check_names(doc, name, "propose")
    origin = origin_for(doc)
    model = from_document(doc.data, origin)
    rule = read_rule(doc.data, origin)
    rules = combined(load_repository_policy(models_dir), model)
    check_not_protected(rule, rules, origin)
    view = registry.read_view(client, target, name, version)
    registry.check_proposable(view, version)
    run = view.versions[version].run
    edit = propose_text(text, str(path), version, rule, run.tags if run else {})
    return Proposal(path, text, edit, rule, gather(view, version, rule.targets(), rules))
