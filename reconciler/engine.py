"""The engine: joins the separate parts (load, read, check, plan, apply). The CLI calls this.

Loading and planning are here; applying (the lock, the journal, the writes) is in
reconciler/apply/execute.py, imported only by the commands that write, so a plan loads no more than
it uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from reconciler.errors import ValidationErrors
from reconciler.governance.repository import load_checked
from reconciler.plan.builder import build_plan
from reconciler.plan.references import check_references
from reconciler.plan.values import Plan
from reconciler.registry.session import Session
from reconciler.state import DesiredModel, LiveState
from reconciler.timing import phase

__all__ = ["Session", "check", "load", "plan", "plan_and_live"]


def load(models_dir: Path) -> list[DesiredModel]:
    """Every model file, and the review policy with each model's `review:` checked against it."""
    with phase("load"):
        return load_checked(models_dir)[1]


def check(desired: Sequence[DesiredModel], live: LiveState, changed_only: bool = True) -> None:
    errors = check_references(desired, live, changed_only)
    if errors:
        raise ValidationErrors(errors)


def plan(session: Session, desired: Sequence[DesiredModel]) -> Plan:
    return plan_and_live(session, desired)[0]


def plan_and_live(session: Session, desired: Sequence[DesiredModel]) -> tuple[Plan, LiveState]:
    with phase("read"):
        live = session.with_runs(desired, session.read(desired), changed_only=True)
    with phase("check"):
        check(desired, live)
    with phase("plan"):
        return build_plan(desired, live, session.target.identity), live
