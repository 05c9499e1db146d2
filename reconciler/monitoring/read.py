"""What `reconciler health` reads, in a bounded number of calls whatever the number of models:
the production runs since the look-back (one paged search of the `gitops.production` experiment),
the audit journal's newest entries (one paged search), the versions holding an open alert (one
paged model-version search). `Counted` counts every call."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from reconciler.monitoring.evaluate import ProductionRun
from reconciler.monitoring.log import EXPERIMENT, MODEL_TAG, VERSION_TAG

PAGE = 50_000  # MLflow's largest search_runs page
ALERT_FLAG = "gitops.health.alerting"  # "1" while a breach alert is open for this version
ALERT_STATE = "gitops.health.alert"  # what was sent: JSON {key, sent_at}


class Counted:
    """An MlflowClient whose calls are counted (for the output and the benchmark)."""

    def __init__(self, client: Any):
        self._client, self.calls = client, 0

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return attr(*args, **kwargs)

        return call


def production_runs(client: Any, since_ms: int) -> dict[tuple[str, int], list[ProductionRun]]:
    experiment = client.get_experiment_by_name(EXPERIMENT)
    out: dict[tuple[str, int], list[ProductionRun]] = defaultdict(list)
    if experiment is None:
        return out
    for run in _pages(
        lambda token: client.search_runs(
            [experiment.experiment_id],
            filter_string=f"attributes.start_time > {int(since_ms)} and attributes.status = 'FINISHED'",
            max_results=PAGE,
            order_by=["attributes.start_time DESC"],
            page_token=token,
        )
    ):
        parsed = _parse(run)
        if parsed is not None:
            out[(parsed.model, parsed.version)].append(parsed)
    return out


def _parse(run: Any) -> ProductionRun | None:
    tags = run.data.tags
    try:
        version = int(tags[VERSION_TAG])
        model = tags[MODEL_TAG]
    except (KeyError, ValueError):
        return None  # not logged by reconciler.monitoring.log: ignored
    return ProductionRun(model, version, int(run.info.start_time), dict(run.data.metrics), run.info.run_id)


def _pages(search: Callable[[str | None], Any]) -> list[Any]:
    out: list[Any] = []
    token = None
    while True:
        page = search(token)
        out += list(page)
        token = page.token
        if not token:
            return out


def open_alerts(client: Any) -> dict[tuple[str, int], dict[str, str]]:
    """(model, version) -> tags, for every version holding an open breach alert."""
    found = _pages(
        lambda token: client.search_model_versions(
            filter_string=f"tags.`{ALERT_FLAG}` = '1'", max_results=1000, page_token=token
        )
    )
    return {(v.name, int(v.version)): dict(v.tags) for v in found}
