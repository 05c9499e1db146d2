"""Reading the live registry in a few batched calls: all registered models (pages of 1,000), all
versions (a few version-number ranges read at once), and the training runs a plan looks at (100
per call). An HTTP registry is read as JSON over `requests` (reconciler/registry/rest.py); a database URI
through MLflow's store, whose entities each field reads itself (`Field.read_entity`): this module
knows no field.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from reconciler.names import LOCK_MODEL
from reconciler.registry.ranges import version_ranges
from reconciler.registry.rest import Rest
from reconciler.state import LiveState, LiveVersion, Run, frozen_map

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.store.entities.paged_list import PagedList

MODELS_PAGE = 1000  # MLflow's maximum for search_registered_models
VERSIONS_PAGE = 10_000
RUN_IDS_PER_QUERY = 100
EXPERIMENTS_PAGE = 1000
MODELS_ENDPOINT = "/api/2.0/mlflow/registered-models/search"
VERSIONS_ENDPOINT = "/api/2.0/mlflow/model-versions/search"
EXPERIMENTS_ENDPOINT = "/api/2.0/mlflow/experiments/search"
RUNS_ENDPOINT = "/api/2.0/mlflow/runs/search"
NOT_RESERVED = f"name != '{LOCK_MODEL}'"  # its tickets are versions: never read with the registry
T = TypeVar("T")
RUN_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")  # what goes into a search filter: nothing that could escape it


@dataclass
class CallCounter:
    """How many registry calls a read made (the benchmark reports it)."""

    calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, n: int = 1) -> None:
        with self._lock:
            self.calls += n


class RegistryReader(Protocol):
    """What a session reads the registry through: `HttpReader` (REST) and `StoreReader` (MLflow's
    store, for database URIs) both satisfy it."""

    def live(self) -> LiveState: ...

    def runs(self, run_ids: Iterable[str]) -> dict[str, Run]: ...


class HttpReader:
    def __init__(self, rest: Rest, counter: CallCounter):
        self.rest = rest
        self.counter = counter

    def _pages(self, endpoint: str, key: str, params: dict[str, Any], post: bool = False) -> Iterator[dict[str, Any]]:
        token = None
        while True:
            query = {**params, **({"page_token": token} if token else {})}
            self.counter.add()
            data = self.rest.post(endpoint, query) if post else self.rest.get(endpoint, query)
            yield from data.get(key, [])
            token = data.get("next_page_token")
            if not token:
                return

    def live(self) -> LiveState:
        """Models first; their latest versions tell how versions spread over version numbers, so
        versions are read in ranges at once (served in parallel by replicas). The last range is
        open-ended, so versions registered in between are not missed."""
        raw_models = list(self._pages(MODELS_ENDPOINT, "registered_models", {"max_results": MODELS_PAGE}))
        # Imported here, after the first request went out: the field declarations it loads are imported
        # by the command meanwhile (reconciler/registry/early_read.py runs this before the verb loads).
        from reconciler.registry.live import assemble, reserved_model, version_from_json

        ranges = version_ranges([_latest_version(m) for m in raw_models if not reserved_model(m["name"])])

        def read_range(f: str | None) -> list[tuple[str, LiveVersion]]:
            where = f"{NOT_RESERVED} AND {f}" if f else NOT_RESERVED
            params: dict[str, Any] = {"max_results": VERSIONS_PAGE, "filter": where}
            return [(v["name"], version_from_json(v)) for v in self._pages(VERSIONS_ENDPOINT, "model_versions", params)]

        with ThreadPoolExecutor(max_workers=len(ranges)) as pool:
            versions = [v for part in pool.map(read_range, ranges) for v in part]
        return assemble(raw_models, versions)

    def runs(self, run_ids: Iterable[str]) -> dict[str, Run]:
        ids = _run_ids(run_ids)
        if not ids:
            return {}
        params = {"max_results": EXPERIMENTS_PAGE, "view_type": "ALL"}
        experiments = [e["experiment_id"] for e in self._pages(EXPERIMENTS_ENDPOINT, "experiments", params, True)]
        out: dict[str, Run] = {}
        for chunk in _chunks(ids, RUN_IDS_PER_QUERY):
            body = {
                "experiment_ids": experiments,
                "filter": f"attributes.run_id IN ({', '.join(repr(r) for r in chunk)})",
                "run_view_type": "ALL",
                "max_results": len(chunk),
            }
            self.counter.add()
            for r in self.rest.post(RUNS_ENDPOINT, body).get("runs", []):
                metrics = {m["key"]: float(m["value"]) for m in r.get("data", {}).get("metrics", [])}
                info = r["info"]
                out[info["run_id"]] = Run(
                    info.get("status", ""), frozen_map(metrics), info.get("lifecycle_stage") == "deleted"
                )
        return out


class StoreReader:
    """A database URI (sqlite:///, postgresql://): MLflow's store hands back entities."""

    def __init__(self, client: MlflowClient, counter: CallCounter):
        self.client = client
        self.counter = counter

    def _pages(self, search: Callable[..., PagedList[T]], **kwargs: Any) -> Iterator[T]:
        token = None
        while True:
            self.counter.add()
            page = search(page_token=token, **kwargs)
            yield from page
            token = page.token
            if not token:
                return

    def live(self) -> LiveState:
        from reconciler.registry.live import assemble_entities, version_from_entity

        with ThreadPoolExecutor(max_workers=2) as pool:
            models_f = pool.submit(lambda: list(self._pages(self.client.search_registered_models, max_results=1000)))
            versions_f = pool.submit(
                lambda: [
                    (v.name, version_from_entity(v))
                    for v in self._pages(
                        self.client.search_model_versions, filter_string=NOT_RESERVED, max_results=VERSIONS_PAGE
                    )
                ]
            )
            return assemble_entities(models_f.result(), versions_f.result())

    def runs(self, run_ids: Iterable[str]) -> dict[str, Run]:
        from mlflow.entities import ViewType

        ids = _run_ids(run_ids)
        if not ids:
            return {}
        experiments = [
            e.experiment_id
            for e in self._pages(self.client.search_experiments, view_type=ViewType.ALL, max_results=EXPERIMENTS_PAGE)
        ]
        out: dict[str, Run] = {}
        for chunk in _chunks(ids, RUN_IDS_PER_QUERY):
            self.counter.add()
            found = self.client.search_runs(
                experiments,
                filter_string=f"attributes.run_id IN ({', '.join(repr(r) for r in chunk)})",
                run_view_type=ViewType.ALL,
                max_results=len(chunk),
            )
            out.update(
                {
                    r.info.run_id: Run(
                        r.info.status, frozen_map(dict(r.data.metrics)), r.info.lifecycle_stage == "deleted"
                    )
                    for r in found
                }
            )
        return out


def _run_ids(run_ids: Iterable[str]) -> list[str]:
    return sorted({r for r in run_ids if RUN_ID.fullmatch(r)})


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _latest_version(m: dict[str, Any]) -> int:
    return max((int(v["version"]) for v in m.get("latest_versions", [])), default=0)
