"""A model file's `propose:` section: what a newly trained version gets when training proposes it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.errors import DesiredStateError
from reconciler.governance.policy import ModelRules
from reconciler.state import Origin, Stage


@dataclass(frozen=True)
class ProposeRule:
    alias: str | None = None
    stage: Stage | None = None
    tags: tuple[str, ...] = ()
    description: bool = False

    def targets(self) -> str:
        """`alias challenger`, `stage Staging`, `alias challenger and stage Staging`."""
        parts = [f"alias {self.alias}" if self.alias else "", f"stage {self.stage.value}" if self.stage else ""]
        return " and ".join(p for p in parts if p)


def read_rule(doc: Mapping[str, Any], origin: Origin) -> ProposeRule:
    """The schema-valid document's `propose:`; a one-line error when the file has none."""
    raw = doc.get("propose")
    if raw is None:
        raise DesiredStateError(
            f"{origin.source}: has no `propose:` section, so nothing says what a new version gets; add one "
            "(e.g. `propose: {alias: challenger, tags: [dataset]}`; see schemas/model.schema.json)"
        )
    stage = raw.get("stage")
    return ProposeRule(
        raw.get("alias"), Stage(stage) if stage else None, tuple(raw.get("tags", ())), raw.get("description", False)
    )


def check_not_protected(rule: ProposeRule, rules: ModelRules, origin: Origin) -> None:
    """A proposal may not ask for what the review policy protects: the training identity may create
    versions, never move a protected alias or stage; that takes a reviewed edit of the file."""
    if rule.alias is not None and rule.alias in rules.aliases:
        where = origin.at("propose", "alias")
        raise DesiredStateError(
            f"{where}: /propose/alias: {rule.alias!r} is a protected alias (review policy), which training may not "
            "request; propose an unprotected alias such as challenger and promote it in a reviewed pull request"
        )
    if rule.stage is not None and rule.stage in rules.stages:
        where = origin.at("propose", "stage")
        raise DesiredStateError(
            f"{where}: /propose/stage: {rule.stage.value} is a protected stage (review policy), which training may "
            "not request; propose Staging (unprotected) or an alias, and promote in a reviewed pull request"
        )
