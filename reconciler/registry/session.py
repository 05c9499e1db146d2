"""A registry connection: the target, a reader (REST for servers, MLflow's store for databases),
MLflow's client for writes (created on first use), and the call counter the benchmark reads."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from reconciler import fields
from reconciler.errors import RegistryError
from reconciler.fields.seams import Answer
from reconciler.registry.reader import CallCounter, HttpReader, RegistryReader, StoreReader
from reconciler.registry.rest import Rest, http_error
from reconciler.registry.target import Target, resolve_target
from reconciler.state import DesiredModel, LiveState, frozen_map

if TYPE_CHECKING:
    from reconciler.registry.clients import Clients  # imports MLflow's client code paths: on first use only


@dataclass
class Session:
    target: Target
    counter: CallCounter = field(default_factory=CallCounter)
    _reader: RegistryReader | None = field(default=None, repr=False)
    _clients: Clients | None = field(default=None, repr=False)
    _rest: Rest | None = field(default=None, repr=False)

    @classmethod
    def open(cls, target: Target | None = None, write: bool = False) -> Session:
        """`write`: apply may create the embedded SQLite file; read-only commands never do."""
        target = target or resolve_target()
        if write:
            target.require_creatable()
        else:
            target.require_existing()
        return cls(target)

    @property
    def reader(self) -> RegistryReader:
        if self._reader is None:
            if self.target.is_http:
                self._reader = HttpReader(self.rest, self.counter)
            else:
                self._reader = StoreReader(self.clients.registry, self.counter)
        return self._reader

    @property
    def clients(self) -> Clients:
        if self._clients is None:
            from reconciler.registry.clients import Clients, mlflow_client

            self._clients = Clients(
                registry=mlflow_client(self.target), rest=self.rest if self.target.is_http else None
            )
        return self._clients

    @property
    def rest(self) -> Rest:
        """MLflow's REST API on an HTTP registry (for fields that read or write through it)."""
        if self._rest is None:
            self._rest = Rest(self.target)
        return self._rest

    def answer(self, endpoint: str) -> Answer:
        """One GET on the REST API whose status the caller judges (a 404 may mean a missing plugin);
        an unreachable server raises RegistryError."""
        import requests

        rest = self.rest
        try:
            return rest.session.get(rest.base + endpoint, timeout=rest.timeout)
        except requests.exceptions.RequestException as e:
            raise RegistryError(
                f"cannot reach the registry {rest.target.describe()} ({type(e).__name__}); check that the server is up"
            ) from None

    def http_error(self, status: int, body: str) -> RegistryError:
        """An error answer from `answer` -> the one-line RegistryError of every other read."""
        return http_error(self.rest.target, status, body)

    def read(self, desired: Sequence[DesiredModel] = (), early: bool = False) -> LiveState:
        """The registry; and, for the models `desired` sets them on, the fields that read themselves.
        `early`: take the read the CLI started at once (reconciler/registry/early_read.py), if it did;
        only for a read whose moment does not matter (a plan's, an import's; never one under the lock)."""
        from reconciler.registry import early_read

        started = early_read.take(self) if early else None
        if started is not None:
            return self._fetch(desired, started)
        from reconciler.registry.clients import translate_errors

        if self.target.is_http:
            live = self.reader.live()
        else:
            with translate_errors(self.target):
                live = self.reader.live()
        return self._fetch(desired, live)

    def _fetch(self, desired: Sequence[DesiredModel], live: LiveState) -> LiveState:
        models, context = dict(live.models), dict(live.context)
        for f in fields.table():
            if f.fetch is None:
                continue
            # Every model whose file sets it, registered yet or not: verify needs the context even
            # when all of them are created by this plan, and a target that cannot hold it is refused.
            names = [m.name for m in desired if f.file_key in m.values]
            if not names:
                continue
            fetched = f.fetch(self, names)
            context[f.name] = fetched.context
            for name, value in fetched.values.items():
                if name in models:
                    m = models[name]
                    models[name] = replace(m, values={**m.values, f.file_key: value})
        return replace(live, models=frozen_map(models), context=frozen_map(context))

    def with_runs(self, live: LiveState, ids: Collection[str]) -> LiveState:
        """The live state plus the named training runs (engine.with_runs: those of the versions the
        files promote)."""
        if not ids:
            return live
        if self.target.is_http:
            return replace(live, runs=self.reader.runs(ids))
        from reconciler.registry.clients import translate_errors

        with translate_errors(self.target):
            return replace(live, runs=self.reader.runs(ids))
