"""The engine: joins the separate parts (load, read, check, plan, apply). The CLI calls this."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler import desired as desired_mod
from reconciler.errors import StalePlanError, ValidationErrors
from reconciler.plan import Plan
from reconciler.planner import build_plan
from reconciler.references import check_references, promoted_versions
from reconciler.state import DesiredModel, LiveState, fingerprint

if TYPE_CHECKING:  # imported where used: `validate --offline` needs no registry client (urllib3, tenacity)
    from reconciler import registry
    from reconciler.apply import Applier, Audit, Report


@dataclass
class Session:
    """A registry connection plus the call counter the benchmark reads."""

    target: registry.Target
    client: Any
    counter: registry.CallCounter

    @classmethod
    def open(cls, target: registry.Target | None = None) -> Session:
        from reconciler import registry

        target = target or registry.resolve_target()
        return cls(target, registry.client(target), registry.CallCounter())

    def read(self) -> LiveState:
        from reconciler import registry

        return registry.read_live(self.client, self.target, self.counter)

    def with_run_status(self, desired: Sequence[DesiredModel], live: LiveState, changed_only: bool) -> LiveState:
        from reconciler import registry

        run_ids = {
            live.models[m.name].versions[n].run_id
            for m in desired
            if m.name in live.models
            for n in promoted_versions(m, live.models[m.name], changed_only)
        }
        status = registry.read_run_status(self.client, self.target, {r for r in run_ids if r}, self.counter)
        return LiveState(live.models, status)


def load(models_dir: Path) -> list[DesiredModel]:
    return desired_mod.load_models(models_dir)


def check(desired: Sequence[DesiredModel], live: LiveState) -> None:
    errors = check_references(desired, live)
    if errors:
        raise ValidationErrors(errors)


def plan(session: Session, desired: Sequence[DesiredModel], changed_only: bool = True) -> Plan:
    return plan_and_live(session, desired, changed_only)[0]


def plan_and_live(
    session: Session, desired: Sequence[DesiredModel], changed_only: bool = True
) -> tuple[Plan, LiveState]:
    live = session.with_run_status(desired, session.read(), changed_only)
    check(desired, live)
    return build_plan(desired, live), live


def desired_from_plan(saved: Plan, source: str) -> list[DesiredModel]:
    return [desired_mod.from_document(doc, f"{source}#{doc['name']}") for doc in saved.desired]


def fresh_or_stale(session: Session, saved: Plan, source: str) -> tuple[Plan | None, LiveState]:
    """(the saved plan, live) if the registry still matches it; (None, live) if it was already
    applied; else refuse."""
    live = session.read()
    now = fingerprint(live, saved.scope)
    if now == saved.live_fingerprint:
        return saved, live
    if not build_plan(desired_from_plan(saved, source), live).has_changes():
        return None, live
    raise StalePlanError(
        f"{source}: the registry changed since this plan was made (live state {now[:19]}…, "
        f"plan made against {saved.live_fingerprint[:19]}…); run 'reconciler plan' again and review the new plan"
    )


def _applier(session: Session, concurrency: int, on_progress: Callable[[int], None]) -> Applier:
    from reconciler.apply import Applier

    if not session.target.concurrent_writes:
        concurrency = 1
    return Applier(session.client, session.target, concurrency, on_progress)


def apply(
    session: Session,
    the_plan: Plan,
    audit: Audit,
    concurrency: int,
    on_progress: Callable[[int], None] = lambda n: None,
    live: LiveState | None = None,
) -> Report:
    """`live`: the registry as read for the plan (its audit records are kept as history)."""
    return _applier(session, concurrency, on_progress).apply(the_plan, audit, live)


def complete_audit(session: Session, applied: Plan, audit: Audit, live: LiveState, concurrency: int) -> Report:
    """For a plan already applied: write the audit records a failed audit write left out."""
    return _applier(session, concurrency, lambda n: None).complete_audit(applied, audit, live)
