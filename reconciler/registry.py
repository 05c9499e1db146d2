"""The live registry: which one, how to reach it, and reading its state in a few batched calls.

This module and apply.py are the only ones that touch MLflow.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from reconciler.errors import RegistryError
from reconciler.http import install_quickack
from reconciler.state import LiveModel, LiveState, LiveVersion, Stage, frozen_map

DEFAULT_DB = "mlflow.db"
MODELS_PAGE = 1000  # MLflow's maximum for search_registered_models
VERSIONS_PAGE = 10_000
RUN_IDS_PER_QUERY = 100
VERSION_PARTITIONS = 4  # concurrent version-range reads against an HTTP registry
VERSIONS_PER_PARTITION = 2_500  # below this many versions per range, one search is as fast

# MLflow retries each HTTP request itself (urllib3 Retry on 429/5xx and connection errors).
# Its defaults (7 retries, backoff factor 2, 120 s timeout) make an unreachable registry hang
# for minutes; these fail in seconds. A user's own settings win.
_HTTP_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "3",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
}


DATABASE_SERVERS = ("postgresql", "mysql", "mssql")  # URI schemes MLflow reaches through SQLAlchemy


@dataclass(frozen=True)
class Target:
    tracking_uri: str
    registry_uri: str
    embedded: bool

    def describe(self) -> str:
        """The registry URI for messages and logs, with any password in it masked."""
        uri = redact(self.registry_uri)
        return f"{uri} (embedded default)" if self.embedded else uri

    @property
    def concurrent_writes(self) -> bool:
        """A server, or a database server MLflow talks to directly (postgresql://, mysql://, mssql://),
        takes concurrent writes; a SQLite file or a local file store takes one writer at a time."""
        return self.registry_uri.startswith(("http://", "https://", *DATABASE_SERVERS))


def redact(uri: str) -> str:
    """`postgresql://user:secret@db/mlflow` -> `postgresql://user:***@db/mlflow` (CI logs and PR
    comments show the registry; a database URI carries its password)."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


def resolve_target(cwd: Path | None = None) -> Target:
    """MLFLOW_TRACKING_URI / MLFLOW_REGISTRY_URI as MLflow users expect; else a local SQLite file."""
    tracking = os.environ.get("MLFLOW_TRACKING_URI")
    registry = os.environ.get("MLFLOW_REGISTRY_URI")
    if tracking or registry:
        tracking = tracking or registry
        return Target(tracking, registry or tracking, embedded=False)  # type: ignore[arg-type]
    uri = embedded_uri(cwd)
    return Target(uri, uri, embedded=True)


def embedded_uri(cwd: Path | None = None) -> str:
    return f"sqlite:///{((cwd or Path.cwd()) / DEFAULT_DB).resolve()}"


def client(target: Target) -> Any:
    for key, value in _HTTP_DEFAULTS.items():
        os.environ.setdefault(key, value)
    install_quickack()
    # Stages are deprecated in MLflow but this tool supports them on purpose; say it once, in the docs.
    warnings.filterwarnings("ignore", message=".*transition_model_version_stage.*", category=FutureWarning)
    from mlflow import MlflowClient

    with translate_errors(target):
        if target.registry_uri.startswith(DATABASE_SERVERS):
            _probe_database(target.registry_uri)
        return MlflowClient(tracking_uri=target.tracking_uri, registry_uri=target.registry_uri)


def _probe_database(uri: str) -> None:
    """One quick connection first: MLflow itself retries an unreachable database for ~100 s."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(uri, poolclass=sqlalchemy.pool.NullPool)
    try:
        with engine.connect():
            pass
    finally:
        engine.dispose()


@contextmanager
def translate_errors(target: Target, what: str = "registry") -> Iterator[None]:
    """MLflow and network exceptions -> one-line RegistryError saying what to do."""
    try:
        yield
    except RegistryError:
        raise
    except Exception as e:  # classified below; anything unrecognised is re-raised as is
        error = classify(e, target, what)
        if error is None:
            raise
        raise error from e


def classify(e: BaseException, target: Target, what: str = "registry") -> RegistryError | None:
    import requests
    import sqlalchemy.exc
    from mlflow.exceptions import MlflowException

    where = f"{what} {target.describe()}"
    text = str(e)
    if isinstance(e, requests.exceptions.ConnectionError) or "Max retries exceeded" in text:
        return RegistryError(f"cannot reach the {where}; check MLFLOW_TRACKING_URI and that the server is up")
    if isinstance(e, sqlalchemy.exc.OperationalError):  # a database URI: the driver's reason, never the URI
        return RegistryError(
            f"cannot use the {where}: {_first_line(str(e.orig))}; check MLFLOW_TRACKING_URI and that the database is up"
        )
    if isinstance(e, MlflowException):
        status = e.get_http_status_code()
        if status == 401 or "401" in text.split("\n", 1)[0]:
            return RegistryError(
                f"the {where} refused the credentials (HTTP 401); set "
                "MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (or MLFLOW_TRACKING_TOKEN)"
            )
        if "Invalid Host header" in text:
            return RegistryError(
                f"the {where} rejected the Host header (HTTP 403): its --allowed-hosts does not "
                "include this address; use the host name the server allows, or add this one"
            )
        if status == 403 or e.error_code == "PERMISSION_DENIED":
            return RegistryError(
                f"the {where} denied permission (HTTP 403): {_first_line(e.message)}; "
                "ask an admin for MANAGE permission on the models"
            )
        return RegistryError(f"the {where} answered {e.error_code}: {_first_line(e.message)}")
    return None


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:300] if text.strip() else "(no message)"


def _pages(fetch: Callable[[str | None], Any]) -> Iterator[Any]:
    token = None
    while True:
        page = fetch(token)
        yield from page
        token = page.token
        if not token:
            return


@dataclass
class CallCounter:
    """How many registry calls a read made (the benchmark reports it)."""

    calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, fn: Callable) -> Callable:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                self.calls += 1
            return fn(*args, **kwargs)

        return wrapped


def read_live(mlflow_client: Any, target: Target, counter: CallCounter | None = None) -> LiveState:
    """All registered models and all versions, in a few paginated searches."""
    counter = counter or CallCounter()
    store = _rest_store(mlflow_client)
    with translate_errors(target):
        if store is not None:
            models, versions = _read_http(store, counter)
        else:
            read_models, read_versions = _store_readers(mlflow_client, counter)
            with ThreadPoolExecutor(max_workers=2) as pool:
                models_f, versions_f = pool.submit(read_models), pool.submit(read_versions)
                models, versions = models_f.result(), versions_f.result()
    return LiveState(models=frozen_map(_assemble(models, versions)))


Reader = Callable[[], list]


def _read_http(store: Any, counter: CallCounter) -> tuple[list, list]:
    """HTTP: JSON as is (MLflow's protobuf parsing of 20,000 versions costs more than the server).

    Models first (1 call per 1,000); their latest versions tell how versions spread over version
    numbers, so the versions are read in up to VERSION_PARTITIONS ranges at once. A registry
    served by several replicas answers them in parallel; the ranges cover every number, including
    versions registered in between (the last range is open-ended).
    """
    raw_models = list(_json_pages(store, MODELS_ENDPOINT, "registered_models", MODELS_PAGE, counter))
    ranges = version_ranges([_latest_version(m) for m in raw_models])

    def read_range(f: str | None) -> list[tuple[str, LiveVersion]]:
        # Converted as each range arrives, while the others are still being served.
        return [
            _version_from_json(v)
            for v in _json_pages(store, VERSIONS_ENDPOINT, "model_versions", VERSIONS_PAGE, counter, f)
        ]

    with ThreadPoolExecutor(max_workers=len(ranges)) as pool:
        versions = [v for part in pool.map(read_range, ranges) for v in part]
    return [_model_from_json(m) for m in raw_models], versions


def _latest_version(m: dict) -> int:
    return max((int(v["version"]) for v in m.get("latest_versions", [])), default=0)


def version_ranges(latest: list[int], parts: int = 0) -> list[str | None]:
    """Filters splitting versions 1..max into ranges of about equal size (None: everything)."""
    parts = parts or VERSION_PARTITIONS
    total = sum(latest)
    if total < VERSIONS_PER_PARTITION or parts < 2:
        return [None]
    parts = min(parts, total // VERSIONS_PER_PARTITION)
    ordered = sorted(latest)
    bounds: list[int] = []
    count, below = 0, 0  # versions numbered <= k; models whose latest version is < k
    for k in range(1, ordered[-1] + 1):
        while ordered[below] < k:
            below += 1
        count += len(ordered) - below
        if len(bounds) < parts - 1 and count >= total * (len(bounds) + 1) / parts:
            bounds.append(k)
    edges = [0, *bounds]
    filters = [f"version_number > {a} AND version_number <= {b}" for a, b in zip(edges, bounds, strict=False)]
    return [*filters, f"version_number > {edges[-1]}"]


def _store_readers(mlflow_client: Any, counter: CallCounter) -> tuple[Reader, Reader]:
    """A local database: MLflow's store hands back entities, no parsing involved."""
    search_models = counter.count(mlflow_client.search_registered_models)
    search_versions = counter.count(mlflow_client.search_model_versions)

    def models() -> list:
        return [_model_from_entity(m) for m in _pages(lambda t: search_models(max_results=MODELS_PAGE, page_token=t))]

    def versions() -> list:
        return [
            _version_from_entity(v) for v in _pages(lambda t: search_versions(max_results=VERSIONS_PAGE, page_token=t))
        ]

    return models, versions


MODELS_ENDPOINT = "/api/2.0/mlflow/registered-models/search"
VERSIONS_ENDPOINT = "/api/2.0/mlflow/model-versions/search"


def _rest_store(mlflow_client: Any) -> Any | None:
    store = mlflow_client._get_registry_client().store
    return store if hasattr(store, "get_host_creds") else None


def _json_pages(
    store: Any, endpoint: str, key: str, page_size: int, counter: CallCounter, filter_string: str | None = None
) -> Iterator[dict]:
    """MLflow's own HTTP layer (credentials, TLS settings, retries), without protobuf parsing."""
    from mlflow.utils.rest_utils import http_request, verify_rest_response

    token = None
    while True:
        params: dict[str, Any] = {"max_results": page_size}
        if filter_string:
            params["filter"] = filter_string
        if token:
            params["page_token"] = token
        response = counter.count(http_request)(store.get_host_creds(), endpoint, "GET", params=params)
        data = verify_rest_response(response, endpoint).json()
        yield from data.get(key, [])
        token = data.get("next_page_token")
        if not token:
            return


def _model_from_json(m: dict) -> tuple[str, str, dict, dict]:
    tags = {t["key"]: t.get("value", "") for t in m.get("tags", [])}
    aliases = {a["alias"]: int(a["version"]) for a in m.get("aliases", [])}
    return m["name"], m.get("description", ""), tags, aliases


def _model_from_entity(m: Any) -> tuple[str, str, dict, dict]:
    return m.name, m.description or "", dict(m.tags), {a: int(n) for a, n in (m.aliases or {}).items()}


def _version_from_json(v: dict) -> tuple[str, LiveVersion]:
    tags = {t["key"]: t.get("value", "") for t in v.get("tags", [])}
    return v["name"], LiveVersion(
        int(v["version"]),
        Stage(v.get("current_stage") or "None"),
        v.get("description", ""),
        frozen_map(tags),
        v.get("run_id") or None,
        v.get("status") or "READY",
    )


def _version_from_entity(v: Any) -> tuple[str, LiveVersion]:
    return v.name, LiveVersion(
        int(v.version),
        Stage(v.current_stage or "None"),
        v.description or "",
        frozen_map(v.tags),
        v.run_id or None,
        str(v.status or "READY"),
    )


def _assemble(
    models: Iterable[tuple[str, str, dict, dict]], versions: Iterable[tuple[str, LiveVersion]]
) -> dict[str, LiveModel]:
    by_model: dict[str, dict[int, LiveVersion]] = {}
    for name, v in versions:
        by_model.setdefault(name, {})[v.version] = v
    return {
        name: LiveModel(name, description, frozen_map(tags), frozen_map(aliases), frozen_map(by_model.get(name, {})))
        for name, description, tags, aliases in models
    }


def read_run_status(
    mlflow_client: Any, target: Target, run_ids: Iterable[str], counter: CallCounter | None = None
) -> dict[str, str]:
    """Status of the given runs, in batched searches (a call per 100 runs, not per run)."""
    ids = sorted(set(run_ids))
    if not ids:
        return {}
    from mlflow.entities import ViewType

    counter = counter or CallCounter()
    with translate_errors(target):
        experiments = [
            e.experiment_id
            for e in _pages(
                lambda t: counter.count(mlflow_client.search_experiments)(
                    view_type=ViewType.ALL, max_results=1000, page_token=t
                )
            )
        ]
        status: dict[str, str] = {}
        for i in range(0, len(ids), RUN_IDS_PER_QUERY):
            chunk = ids[i : i + RUN_IDS_PER_QUERY]
            quoted = ", ".join(f"'{r}'" for r in chunk)
            runs = counter.count(mlflow_client.search_runs)(
                experiments,
                filter_string=f"attributes.run_id IN ({quoted})",
                run_view_type=ViewType.ALL,
                max_results=len(chunk),
            )
            status.update({r.info.run_id: r.info.status for r in runs})
    return status
