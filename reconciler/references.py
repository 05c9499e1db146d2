"""Checks of the files' references against the live registry. Pure: values in, errors out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from reconciler.errors import DesiredStateError
from reconciler.planner import desired_aliases, final_stages
from reconciler.state import DesiredModel, LiveModel, LiveState, Stage

PROMOTED_STAGES = (Stage.STAGING, Stage.PRODUCTION)
FAILED_RUN_STATES = ("FAILED", "KILLED")


def check_references(desired: Sequence[DesiredModel], live: LiveState) -> list[DesiredStateError]:
    errors: list[DesiredStateError] = []
    for model in desired:
        live_model = live.models.get(model.name)
        errors.extend(_missing_versions(model, live_model))
        if live_model is not None:
            errors.extend(_unfit_promotions(model, live_model, live.run_status))
    return errors


def _references(model: DesiredModel) -> Iterable[tuple[str, int]]:
    for number in model.versions:
        yield f"/versions/{number}", number
    for alias, number in (model.aliases or {}).items():
        yield f"/aliases/{alias}", number


def _missing_versions(model: DesiredModel, live: LiveModel | None) -> Iterable[DesiredStateError]:
    existing = set(live.versions) if live else set()
    for pointer, number in _references(model):
        if number not in existing:
            latest = f"latest is {max(existing)}" if existing else "it has no versions"
            yield DesiredStateError(
                f"{model.source}: {pointer}: model {model.name!r} has no version {number} in the registry "
                f"({latest}); versions come from training code: register it first or fix the number"
            )


def promoted_versions(model: DesiredModel, live: LiveModel, changed_only: bool) -> set[int]:
    """Versions the file puts in Staging/Production or points an alias at (only new ones if changed_only)."""
    stages, _ = final_stages(model, live)
    promoted = {n for n, s in stages.items() if s in PROMOTED_STAGES}
    promoted |= {n for n in (desired_aliases(model, stages) or {}).values() if n in live.versions}
    if changed_only:
        promoted = {n for n in promoted if stages[n] is not live.versions[n].stage or n not in live.aliases.values()}
    return {n for n in promoted if n in live.versions}


def _unfit_promotions(
    model: DesiredModel, live: LiveModel, run_status: Mapping[str, str]
) -> Iterable[DesiredStateError]:
    for number in sorted(promoted_versions(model, live, changed_only=False)):
        version = live.versions[number]
        where = f"{model.source}: model {model.name!r} version {number}"
        if version.status != "READY":
            yield DesiredStateError(
                f"{where}: registration status is {version.status}; promote a version whose registration finished"
            )
        status = run_status.get(version.run_id or "")
        if status in FAILED_RUN_STATES:
            yield DesiredStateError(
                f"{where}: its training run {version.run_id} {status.lower()}; promote a version from a successful run"
            )
