"""Read one model's versions and the runs propose and show need, through MLflow's client.

Only reads: nothing here writes to the registry. One model's versions (one search, paged), and the
runs of the versions that matter (the candidate, the holders of the targets), one call each.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from reconciler.errors import ReconcilerError
from reconciler.proposal.evidence import ModelView, RunInfo, VersionInfo
from reconciler.state import Stage, frozen_map
from reconciler.target import Target

MAX_ARTIFACTS = 200


class NotProposable(ReconcilerError):
    """The version does not exist, its registration or its run failed."""


def open_client(target: Target) -> Any:
    from reconciler.clients import mlflow_client

    return mlflow_client(target)


def read_view(client: Any, target: Target, name: str, candidate: int, artifacts: bool = False) -> ModelView:
    """The model's aliases, every version's stage, and the runs of the candidate and of the holders
    of aliases and stages (the versions a comparison or a gate looks at)."""
    from reconciler.clients import translate_errors

    with translate_errors(target):
        model = _registered(client, target, name)
        raw = {int(v.version): v for v in _versions(client, name)}
        if candidate not in raw:
            raise NotProposable(
                f"model {name!r} has no version {candidate} in {target.describe()}; check the number "
                f"(latest: {max(raw, default='none')})"
            )
        aliases = {a: int(v) for a, v in (model.aliases or {}).items()}
        wanted = {candidate, *aliases.values(), *_stage_holders(raw)}
        runs = {n: _run(client, target, raw[n].run_id, artifacts and n == candidate) for n in wanted if n in raw}
    versions = {n: _version(v, runs.get(n)) for n, v in raw.items()}
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
    return VersionInfo(int(v.version), v.status, stage, run, frozen_map(dict(v.tags or {})), v.description or "")


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
