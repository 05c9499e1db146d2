"""What a field declaration is: `Field`, its level and kind, and what a self-reading field fetches.
The declarations themselves are assembled in reconciler/fields/__init__.py."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
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
    read: Callable[[Mapping[str, Any]], Any]  # the entity's registry JSON -> typed live value
    write: Callable[[WriteClients, EntryAddress, Any], None]  # set or update (one map entry)
    delete: Callable[[WriteClients, EntryAddress], None] | None = None  # remove one map entry
    parse: Callable[[Any], Any] = _same  # file value (schema-valid) -> typed value; for maps, per entry
    dump: Callable[[Any], Any] = _same  # typed value -> file value; for maps, per entry
    show: Callable[[Any], str] = repr  # a value as plans show it
    prune: str | None = None  # the policy.prune flag that lets the plan remove unnamed entries
    empty: Any = None  # the live value when the registry has none
    demotes: Callable[[Any], bool] = lambda value: False  # applied last (after promotions): archives
    import_always: bool = False  # import writes it for every listed entity, even when empty
    # A field the model and version searches do not return reads itself: `fetch(session, names)`
    # returns a Fetched for the named models (those whose files set the field, registered yet or
    # not), in a bounded number of calls; `verify(desired_model, live_model_or_None, context)` lists
    # what is wrong with the file given that context (e.g. a grant for a user the server does not
    # know), each problem with its path in the file: [(("permissions", "bob"), "no user ...")].
    fetch: Callable[[FieldSession, Sequence[str]], Fetched] | None = None
    verify: Callable[[DesiredModel, LiveModel | None, Any], list[tuple[tuple[str, ...], str]]] | None = None

    @property
    def source(self) -> str:
        return "registry" if self.fetch is None else self.name

    def live(self, values: Mapping[str, Any]) -> Any:
        return values.get(self.file_key, self.empty)

    def typed(self, file_value: Any) -> Any:
        if self.kind is Kind.MAP:
            if self.parse is _same:  # tags: 20,000 versions' worth on a 1,000-file load
                return frozen_map(file_value)
            return frozen_map({k: self.parse(v) for k, v in file_value.items()})
        return file_value if self.parse is _same else self.parse(file_value)

    def document(self, value: Any) -> Any:
        if self.kind is Kind.MAP:
            return dict(value) if self.dump is _same else {k: self.dump(v) for k, v in value.items()}
        return value if self.dump is _same else self.dump(value)

    def is_empty(self, value: Any) -> bool:
        return value == self.empty or (self.kind is Kind.MAP and not value)
