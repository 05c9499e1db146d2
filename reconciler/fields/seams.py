"""The registry as a field's read and write functions see it: `typing.Protocol`s that
reconciler/registry/ satisfies (`Session`, `Clients`, `Rest`) and plan/ satisfies (`Address`), so
fields/ imports neither and mypy still checks every call across the seam."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class Described(Protocol):
    """A registry target, as messages name it."""

    @property
    def is_http(self) -> bool: ...

    def describe(self) -> str: ...


class Answer(Protocol):
    """An HTTP answer (requests.Response)."""

    @property
    def status_code(self) -> int: ...

    @property
    def text(self) -> str: ...

    def json(self) -> Any: ...


class HttpSession(Protocol):
    """The kept-alive HTTP session (requests.Session) under the REST API."""

    def get(self, url: str, *, timeout: float) -> Answer: ...

    def post(self, url: str, *, json: Mapping[str, str], timeout: float) -> Answer: ...


class RestApi(Protocol):
    """MLflow's REST API (reconciler/registry/rest.py `Rest`)."""

    @property
    def target(self) -> Described: ...

    @property
    def base(self) -> str: ...

    @property
    def timeout(self) -> float: ...

    @property
    def session(self) -> HttpSession: ...

    def get(self, endpoint: str, params: Mapping[str, Any]) -> dict[str, Any]: ...


class Counter(Protocol):
    def add(self, n: int = 1) -> None: ...


class FieldSession(Protocol):
    """What a self-reading field's `fetch` is handed (reconciler/registry/session.py `Session`)."""

    @property
    def target(self) -> Described: ...

    @property
    def counter(self) -> Counter: ...

    @property
    def rest(self) -> RestApi: ...

    def answer(self, endpoint: str) -> Answer: ...

    def http_error(self, status: int, body: str) -> Exception: ...


class RegistryWriter(Protocol):
    """The `mlflow.MlflowClient` methods the field writes call (reconciler/fields/writes.py)."""

    def create_registered_model(self, name: str, *, description: str | None = None) -> object: ...

    def update_registered_model(self, name: str, description: str | None = None) -> object: ...

    def update_model_version(self, name: str, version: str, description: str | None = None) -> object: ...

    def set_registered_model_tag(self, name: str, key: str, value: Any) -> object: ...

    def delete_registered_model_tag(self, name: str, key: str) -> object: ...

    def set_model_version_tag(self, name: str, version: str, key: str, value: Any) -> object: ...

    def delete_model_version_tag(self, name: str, version: str, key: str) -> object: ...

    def set_registered_model_alias(self, name: str, alias: str, version: str) -> object: ...

    def delete_registered_model_alias(self, name: str, alias: str) -> object: ...

    def transition_model_version_stage(
        self, name: str, version: str, stage: str, archive_existing_versions: bool = False
    ) -> object: ...


class WriteClients(Protocol):
    """What a field's write and delete are handed (reconciler/registry/clients.py `Clients`)."""

    @property
    def registry(self) -> RegistryWriter: ...

    @property
    def rest(self) -> RestApi | None: ...

    def raise_write_error(self, answer: Answer, endpoint: str, denied: str) -> None: ...


class EntryAddress(Protocol):
    """Which entity, and which map entry, a write is for (reconciler/plan/values.py `Address`)."""

    @property
    def model(self) -> str: ...

    @property
    def version(self) -> int | None: ...

    @property
    def key(self) -> str | None: ...


def entry(address: EntryAddress) -> str:
    """A map entry's key (tag key, alias name, user name): every map write has one."""
    if address.key is None:
        raise ValueError(f"model {address.model!r}: a map entry's write without its key")
    return address.key
