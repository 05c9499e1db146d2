"""What a field declaration is: `Field`, its level and kind, and what a self-reading field fetches.
The declarations themselves are assembled in reconciler/fields/__init__.py."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from reconciler.fields.seams import EntryAddress, FieldSession, WriteClients
from reconciler.state import DesiredModel, LiveModel, frozen_map


class Level(str, Enum):
    MODEL = "model"
    VERSION = "version"


class Kind(str, Enum):
    SCALAR = "scalar"  # one value: update
    MAP = "map"  # keyed entries: create, update, delete-or-report


def _same(value: Any) -> Any:
    return value


# One of MLflow's own validators run on a file value before any write (reconciler/registry/mlflow_rules.py):
# (the path below the field's key in the file, the name of the function in mlflow.utils.validation, its
# arguments). By name, so that fields/ imports nothing from MLflow.
MlflowCheck = tuple[tuple[str, ...], str, tuple[Any, ...]]


def _no_checks(value: Any) -> Iterable[MlflowCheck]:
    return ()


@dataclass(frozen=True)
class Fetched:
    """What a field's own read returns: the live value per model, and what `verify` needs."""

    values: Mapping[str, Any]
    context: Any = None


@dataclass(frozen=True)
class Field:
    name: str  # in addresses and plans: "description", "tag[team]", "alias[champion]"
    file_key: str  # in models/*.yaml: "description", "tags", "aliases"
    level: Level
    kind: Kind
    schema: Mapping[str, Any]  # JSON Schema of the file value
    read: Callable[[Mapping[str, Any]], Any]  # the entity's REST JSON (MLflow's search answers) -> typed live value
    write: Callable[[WriteClients, EntryAddress, Any], None]  # set or update (one map entry)
    delete: Callable[[WriteClients, EntryAddress], None] | None = None  # remove one map entry
    parse: Callable[[Any], Any] = _same  # file value (schema-valid) -> typed value; for maps, per entry
    dump: Callable[[Any], Any] = _same  # typed value -> file value; for maps, per entry
    show: Callable[[Any], str] = repr  # a value as plans show it
    prune: str | None = None  # the policy.prune flag that lets the plan remove unnamed entries
    empty: Any = None  # the live value when the registry has none
    demotes: Callable[[Any], bool] = lambda value: False  # applied last (after promotions): archives
    import_always: bool = False  # import writes it for every listed entity, even when empty
    # A field the model and version searches return also says how MLflow's store entities hold it
    # (`RegisteredModel`, `ModelVersion`: a database URI is read through them), and how its typed value
    # sits in the REST JSON (the inverse of `read`; the test fakes build MLflow's answers from it, and
    # where two fields share a JSON list, such as `tags`, their parts are joined).
    read_entity: Callable[[Any], Any] | None = None
    to_json: Callable[[Any], Mapping[str, Any]] | None = None
    mlflow_checks: Callable[[Any], Iterable[MlflowCheck]] = _no_checks  # a file value -> MLflow's validators
    # Governance may protect it: the review policy's `protected:` list that names what is protected
    # ("aliases", "stages"). A map's entries are protected by key, and each names a version (the
    # version a protected move gives the entry to); a version scalar is protected by value.
    guard: str | None = None
    # A field the model and version searches do not return reads itself: `fetch(session, names)`
    # returns a Fetched for the named models (those whose files set the field, registered yet or
    # not), in a bounded number of calls; `verify(desired_model, live_model_or_None, context)` lists
    # what is wrong with the file given that context (e.g. a grant for a user the server does not
    # know), each problem with its path in the file: [(("permissions", "bob"), "no user ...")].
    fetch: Callable[[FieldSession, Sequence[str]], Fetched] | None = None
    verify: Callable[[DesiredModel, LiveModel | None, Any], list[tuple[tuple[str, ...], str]]] | None = None
    # `kind is Kind.MAP`, computed once: on Python 3.11 each `Kind.MAP` is a descriptor call, and a no-op
    # plan of 1,000 x 20 asks 120,000 times (bench/cli_bench.py).
    is_map: bool = field(init=False, repr=False, compare=False, default=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "is_map", self.kind is Kind.MAP)
        if self.fetch is None and (self.read_entity is None or self.to_json is None):
            raise ValueError(f"{self.level.value} field {self.name}: a registry field needs read_entity and to_json")
        if self.kind is Kind.MAP and self.delete is None:
            raise ValueError(f"{self.level.value} field {self.name}: a map field needs a delete")
        if self.guard is not None and (self.kind, self.level) not in (
            (Kind.MAP, Level.MODEL),
            (Kind.SCALAR, Level.VERSION),
        ):
            raise ValueError(
                f"{self.level.value} field {self.name}: governance protects model maps and version scalars"
            )

    def live(self, values: Mapping[str, Any]) -> Any:
        return values.get(self.file_key, self.empty)

    def typed(self, file_value: Any) -> Any:
        if self.is_map:
            if self.parse is _same:  # tags: 20,000 versions' worth on a 1,000-file load
                return frozen_map(file_value)
            return frozen_map({k: self.parse(v) for k, v in file_value.items()})
        return file_value if self.parse is _same else self.parse(file_value)

    def document(self, value: Any) -> Any:
        if self.is_map:
            return dict(value) if self.dump is _same else {k: self.dump(v) for k, v in value.items()}
        return value if self.dump is _same else self.dump(value)

    def is_empty(self, value: Any) -> bool:
        return value == self.empty or (self.is_map and not value)
