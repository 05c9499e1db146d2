"""Read one model's versions and the runs propose and show need, through MLflow's client.

Only reads: nothing here writes to the registry. One model's versions (one search, paged), and the
runs of the versions that matter (the candidate, the holders of the targets), one call each.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from reconciler.errors import ReconcilerError
from reconciler.proposal.evidence import ModelView, RunInfo, VersionInfo
from reconciler.registry.target import Target
from reconciler.state import Stage, frozen_map

MAX_ARTIFACTS = 200


class NotProposable(ReconcilerError):
    """The version does not exist, its registration or its run failed."""


def open_client(target: Target) -> Any:
    from reconciler.registry.clients import mlflow_client

    return mlflow_client(target)


UNREGISTERED = 0  # the number a run not registered yet stands under (`reconciler gates --run`)


def read_view(
    client: Any, target: Target, name: str, candidate: int, artifacts: bool = False, run_id: str | None = None
) -> ModelView:
    """The model's aliases, every version's stage, and the runs of the candidate and of the holders
    of aliases and stages (the versions a comparison or a gate looks at). `run_id`: a candidate run
    not registered yet, as version UNREGISTERED (`candidate` is then UNREGISTERED too)."""
    from reconciler.registry.clients import translate_errors

    with translate_errors(target):
        model = _registered(client, target, name) if run_id is None else _registered_or_none(client, name)
        raw = {int(v.version): v for v in _versions(client, name)} if model is not None else {}
        if run_id is not None:
            return _with_run(client, target, name, model, raw, run_id)
        if candidate not in raw:
            raise NotProposable(
                f"model {name!r} has no version {candidate} in {target.describe()}; check the number "
                f"(latest: {max(raw, default='none')})"
            )
        aliases = {a: int(v) for a, v in (model.aliases or {}).items()}
        wanted = {candidate, *aliases.values(), *_stage_holders(raw)}
        runs = {n: _run(client, target, raw[n].run_id, artifacts and n == candidate) for n in wanted if n in raw}
    versions = {n: _version(v, runs.get(n)) for n, v in raw.items()}
    if artifacts:
        versions[candidate] = replace(versions[candidate], artifacts=_model_files(client, raw[candidate].source))
    return ModelView(name, frozen_map(aliases), frozen_map(versions))


def _registered_or_none(client: Any, name: str) -> Any:
    from mlflow.exceptions import MlflowException

    try:
        return client.get_registered_model(name)
    except MlflowException as e:
        if e.error_code == "RESOURCE_DOES_NOT_EXIST":
            return None  # the first version of a new model: nothing to compare with
        raise


def _with_run(client: Any, target: Target, name: str, model: Any, raw: dict[int, Any], run_id: str) -> ModelView:
    run = _run(client, target, run_id, False)
    if run is None:
        raise NotProposable(f"no run {run_id!r} in {target.describe()}; check the run id the training step printed")
    aliases = {a: int(v) for a, v in ((model.aliases if model else None) or {}).items()}
    wanted = {*aliases.values(), *_stage_holders(raw)}
    versions = {n: _version(v, _run(client, target, v.run_id, False) if n in wanted else None) for n, v in raw.items()}
    versions[UNREGISTERED] = VersionInfo(UNREGISTERED, "READY", Stage.NONE, run)
    return ModelView(name, frozen_map(aliases), frozen_map(versions))


def check_proposable(view: ModelView, candidate: int) -> None:
    v = view.versions[candidate]
    if v.status != "READY":
        raise NotProposable(
            f"model {view.name!r} version {candidate} is {v.status}, not READY; propose a version whose "
            "registration finished"
        )
    if v.run is None:
        raise NotProposable(
            f"model {view.name!r} version {candidate} has no training run in this tracking server; "
            "propose a version logged from a run (examples/train.py)"
        )
    if v.run.deleted:
        raise NotProposable(
            f"model {view.name!r} version {candidate}: its training run {v.run.run_id} is deleted (in the "
            "tracking server's trash); restore it (`mlflow runs restore`) or propose the version of a kept run"
        )
    if v.run.status != "FINISHED":
        raise NotProposable(
            f"model {view.name!r} version {candidate}: its training run {v.run.run_id} is {v.run.status}, not "
            "FINISHED; fix the training and propose the version of a run that finished"
        )


def _registered(client: Any, target: Target, name: str) -> Any:
    from mlflow.exceptions import MlflowException

    try:
        return client.get_registered_model(name)
    except MlflowException as e:
        if e.error_code == "RESOURCE_DOES_NOT_EXIST":
            raise NotProposable(f"no registered model named {name!r} in {target.describe()}; check the name") from None
        raise


def _versions(client: Any, name: str) -> Iterable[Any]:
    quote = "'" if "'" not in name else '"'
    token = None
    while True:
        page = client.search_model_versions(f"name = {quote}{name}{quote}", max_results=10_000, page_token=token)
        yield from page
        token = page.token
        if not token:
            return


def _stage_holders(raw: dict[int, Any]) -> set[int]:
    newest: dict[str, int] = {}
    for n, v in raw.items():
        stage = v.current_stage or "None"
        if stage in ("Staging", "Production"):
            newest[stage] = max(n, newest.get(stage, 0))
    return set(newest.values())


def _version(v: Any, run: RunInfo | None) -> VersionInfo:
    stage = Stage(v.current_stage) if v.current_stage in {s.value for s in Stage} else Stage.NONE
    tags = frozen_map(dict(v.tags or {}))
    return VersionInfo(int(v.version), v.status, stage, run, tags, v.description or "", v.source or "")


def _model_files(client: Any, source: str) -> tuple[str, ...]:
    """The files of MLflow 3's logged model a version was registered from (models:/m-…)."""
    from mlflow.exceptions import MlflowException

    if not source.startswith("models:/m-"):
        return ()
    try:
        files = client.list_logged_model_artifacts(source.removeprefix("models:/"))
    except (MlflowException, AttributeError):
        return ()
    return tuple(sorted(f.path for f in files))[:MAX_ARTIFACTS]


def _run(client: Any, target: Target, run_id: str | None, artifacts: bool) -> RunInfo | None:
    from mlflow.exceptions import MlflowException

    if not run_id:
        return None
    try:
        r = client.get_run(run_id)
    except MlflowException as e:
        if e.error_code == "RESOURCE_DOES_NOT_EXIST":
            return None
        raise
    datasets = tuple(
        f"{d.dataset.name} (digest {d.dataset.digest}, source {d.dataset.source_type})"
        for d in (r.inputs.dataset_inputs if r.inputs else ())
    )
    link = target.web_link(f"#/experiments/{r.info.experiment_id}/runs/{run_id}")
    return RunInfo(
        run_id=run_id,
        status=r.info.status,
        experiment_id=r.info.experiment_id,
        params=frozen_map(dict(r.data.params)),
        metrics=frozen_map({k: float(v) for k, v in r.data.metrics.items()}),
        tags=frozen_map({k: v for k, v in r.data.tags.items() if not k.startswith("mlflow.log-model")}),
        datasets=datasets,
        artifacts=_artifacts(client, run_id) if artifacts else (),
        link=link,
        deleted=r.info.lifecycle_stage == "deleted",
    )


def _artifacts(client: Any, run_id: str) -> tuple[str, ...]:
    """The run's artifact paths, two levels deep (a logged model's files: MLmodel, model.pkl...)."""
    out: list[str] = []
    for top in client.list_artifacts(run_id):
        if top.is_dir:
            out.extend(f.path for f in client.list_artifacts(run_id, top.path))
        else:
            out.append(top.path)
        if len(out) >= MAX_ARTIFACTS:
            break
    return tuple(out[:MAX_ARTIFACTS])
