"""A registry connection: the target, a reader (REST for servers, MLflow's store for databases),
MLflow's client for writes (created on first use), and the call counter the benchmark reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from reconciler.fields import FIELDS
from reconciler.plan.references import runs_to_read
from reconciler.registry.reader import CallCounter, HttpReader, StoreReader
from reconciler.registry.rest import Rest
from reconciler.registry.target import Target, resolve_target
from reconciler.state import DesiredModel, LiveState, frozen_map


@dataclass
class Session:
    target: Target
    counter: CallCounter = field(default_factory=CallCounter)
    _reader: Any = field(default=None, repr=False)
    _clients: Any = field(default=None, repr=False)
    _rest: Any = field(default=None, repr=False)

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
    def reader(self) -> Any:
        if self._reader is None:
            if self.target.is_http:
                self._reader = HttpReader(self.rest, self.counter)
            else:
                self._reader = StoreReader(self.clients.registry, self.counter)
        return self._reader

    @property
    def clients(self) -> Any:
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

    def read(self, desired: Sequence[DesiredModel] = ()) -> LiveState:
        """The registry; and, for the models `desired` sets them on, the fields that read themselves."""
        from reconciler.registry.clients import translate_errors

        if self.target.is_http:
            live = self.reader.live()
        else:
            with translate_errors(self.target):
                live = self.reader.live()
        return self._fetch(desired, live)

    def _fetch(self, desired: Sequence[DesiredModel], live: LiveState) -> LiveState:
        models, context = dict(live.models), dict(live.context)
        for f in FIELDS:
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

    def with_runs(self, desired: Sequence[DesiredModel], live: LiveState, changed_only: bool) -> LiveState:
        """The live state plus the training runs of the versions the files promote."""
        ids = runs_to_read(desired, live, changed_only)
        if not ids:
            return live
        if self.target.is_http:
            return replace(live, runs=self.reader.runs(ids))
        from reconciler.registry.clients import translate_errors

        with translate_errors(self.target):
            return replace(live, runs=self.reader.runs(ids))
