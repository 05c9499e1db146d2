"""A registry connection: the target, a reader (REST for servers, MLflow's store for databases),
MLflow's client for writes (created on first use), and the call counter the benchmark reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.reader import CallCounter, HttpReader, StoreReader
from reconciler.references import runs_to_read
from reconciler.state import DesiredModel, LiveState
from reconciler.target import Target, resolve_target


@dataclass
class Session:
    target: Target
    counter: CallCounter = field(default_factory=CallCounter)
    _reader: Any = field(default=None, repr=False)
    _clients: Any = field(default=None, repr=False)

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
                self._reader = HttpReader(self.target, self.counter)
            else:
                self._reader = StoreReader(self.clients.registry, self.counter)
        return self._reader

    @property
    def clients(self) -> Any:
        if self._clients is None:
            from reconciler.clients import Clients, mlflow_client

            self._clients = Clients(registry=mlflow_client(self.target))
        return self._clients

    def read(self) -> LiveState:
        from reconciler.clients import translate_errors

        if self.target.is_http:
            return self.reader.live()
        with translate_errors(self.target):
            return self.reader.live()

    def with_runs(self, desired: Sequence[DesiredModel], live: LiveState, changed_only: bool) -> LiveState:
        """The live state plus the training runs of the versions the files promote."""
        ids = runs_to_read(desired, live, changed_only)
        if not ids:
            return live
        if self.target.is_http:
            return LiveState(live.models, self.reader.runs(ids))
        from reconciler.clients import translate_errors

        with translate_errors(self.target):
            return LiveState(live.models, self.reader.runs(ids))
