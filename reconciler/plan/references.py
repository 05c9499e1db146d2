"""Checks of the files' references against the live registry. Pure: values in, errors out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from reconciler.errors import DesiredStateError
from reconciler.fields import table
from reconciler.plan.retention import resolve
from reconciler.pointer import pointer
from reconciler.state import DesiredModel, LiveModel, LiveState, Run, Stage

PROMOTED_STAGES = (Stage.STAGING, Stage.PRODUCTION)
FAILED_RUN_STATES = ("FAILED", "KILLED")


def check_references(desired: Sequence[DesiredModel], live: LiveState, changed_only: bool) -> list[DesiredStateError]:
    errors: list[DesiredStateError] = []
    for model in desired:
        live_model = live.models.get(model.name)
        missing = list(_missing_versions(model, live_model))
        errors += missing
        if live_model is not None and not missing:  # promotions are judged once every reference resolves
            errors.extend(_unfit_promotions(model, live_model, live.runs, changed_only))
        errors.extend(_verified(model, live))
    return errors


def _verified(model: DesiredModel, live: LiveState) -> Iterable[DesiredStateError]:
    """Fields that check a file against what the registry knows (e.g. its users); each problem
    comes with its path in the file."""
    for f in table():
        if f.verify is not None and f.file_key in model.values and f.name in live.context:
            for path, problem in f.verify(model, live.models.get(model.name), live.context[f.name]):
                yield DesiredStateError(f"{model.origin.at(*path)}: {pointer(path)}: {problem}")


def _references(model: DesiredModel) -> Iterable[tuple[tuple[str, ...], int]]:
    for number in model.versions:
        yield ("versions", str(number)), number
    for alias, number in (model.aliases or {}).items():
        yield ("aliases", alias), number


def _missing_versions(model: DesiredModel, live: LiveModel | None) -> Iterable[DesiredStateError]:
    existing = set(live.versions) if live else set()
    for path, number in _references(model):
        if number not in existing:
            latest = f"latest is {max(existing)}" if existing else "it has no versions"
            yield DesiredStateError(
                f"{model.origin.at(*path)}: {pointer(path)}: model {model.name!r} has no version {number} in the "
                f"registry ({latest}); versions come from training code: register it first or fix the number"
            )


def promoted_versions(model: DesiredModel, live: LiveModel, changed_only: bool) -> set[int]:
    """Versions that will be in Staging/Production or the target of an alias. With `changed_only`,
    only those that newly gain such a stage or an alias: every one of them has its run checked."""
    resolved = resolve(model, live)
    final = resolved.final_aliases(live.aliases, "aliases" in model.policy.prune)
    promoted = {n for n, s in resolved.stages.items() if s in PROMOTED_STAGES}
    if changed_only:
        promoted = {n for n in promoted if resolved.stages[n] is not live.versions[n].stage}
        promoted |= {n for a, n in final.items() if live.aliases.get(a) != n}
    else:
        promoted |= set(final.values())
    return {n for n in promoted if n in live.versions}


def _unfit_promotions(
    model: DesiredModel, live: LiveModel, runs: Mapping[str, Run], changed_only: bool
) -> Iterable[DesiredStateError]:
    for number in sorted(promoted_versions(model, live, changed_only)):
        version = live.versions[number]
        path = _promoting(model, number)
        where = f"{model.origin.at(*path)}: {pointer(path)}: model {model.name!r} version {number}"
        if version.status != "READY":
            yield DesiredStateError(
                f"{where}: registration status is {version.status}; promote a version whose registration finished"
            )
        run = runs.get(version.run_id or "")
        if run is not None and run.deleted:
            yield DesiredStateError(
                f"{where}: its training run {version.run_id} is deleted (in the tracking server's trash, which "
                "`mlflow gc` empties); restore the run (`mlflow runs restore`) or promote a version from a kept run"
            )
        elif run is not None and run.status in FAILED_RUN_STATES:
            yield DesiredStateError(
                f"{where}: its training run {version.run_id} {run.status.lower()}; promote a version from a "
                "successful run"
            )


def _promoting(model: DesiredModel, number: int) -> tuple[str, ...]:
    """Where the file promotes the version: its stage, else an alias naming it, else its entry."""
    version = model.versions.get(number)
    if version is not None and version.values.get("stage") in PROMOTED_STAGES:
        return ("versions", str(number), "stage")
    for alias, target in sorted((model.aliases or {}).items()):
        if target == number:
            return ("aliases", alias)
    return ("versions", str(number)) if version is not None else ("name",)


def runs_to_read(desired: Sequence[DesiredModel], live: LiveState, changed_only: bool) -> set[str]:
    """The training runs a plan must look at: those of the versions it promotes."""
    return {
        run_id
        for m in desired
        if m.name in live.models
        for n in promoted_versions(m, live.models[m.name], changed_only)
        if (run_id := live.models[m.name].versions[n].run_id)
    }
