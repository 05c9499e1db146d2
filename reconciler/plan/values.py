"""The plan: frozen, typed changes. No I/O, no MLflow. Its file form is in reconciler/plan/saved_plan.py."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from reconciler import fields
from reconciler.state import DesiredModel

MODEL = "model"  # the field name of a change to the registered model itself (create)


class Action(str, Enum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"

    @property
    def symbol(self) -> str:
        return {"create": "+", "update": "~", "delete": "-"}[self.value]


@dataclass(frozen=True, order=True)
class Address:
    model: str
    version: int | None = None
    field: str = MODEL  # a field declaration's name, or "model"
    key: str | None = None  # map entry: tag key, alias name

    def declaration(self) -> fields.Field:
        return fields.named(self.field, self.version is not None)

    def label(self) -> str:
        """The address within its model: "v3 stage", "tag[team]", "registered model"."""
        if self.field == MODEL:
            return "registered model"
        prefix = f"v{self.version} " if self.version is not None else ""
        return prefix + (self.field if self.key is None else f"{self.field}[{self.key}]")

    def __str__(self) -> str:
        return self.model if self.field == MODEL else f"{self.model} {self.label()}"

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model, "version": self.version, "field": self.field, "key": self.key}


@dataclass(frozen=True)
class Change:
    address: Address
    action: Action
    before: Any = None  # plain JSON values, as the file writes them
    after: Any = None
    reason: str | None = None  # the policy that asked for it, when it was not the file directly

    def demotes(self) -> bool:
        """Archives and removals apply after promotions, so a stage is never left empty in between."""
        a = self.address
        return self.action is Action.DELETE or (a.field != MODEL and a.declaration().demotes(self.after))

    def sort_key(self) -> tuple[str, int, int, str]:
        a = self.address
        order = -1 if a.field == MODEL else fields.table().index(a.declaration())
        return (a.model, order + (100 if self.demotes() else 0), a.version or 0, a.key or "")

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"address": self.address.to_json(), "action": self.action.value}
        d.update(before=self.before, after=self.after, reason=self.reason)
        return d


@dataclass(frozen=True)
class Note:
    """Something the plan reports but will not change (unmanaged tags, aliases, models), or what a
    policy (`reason`) could not or would not do, and what to do about it."""

    address: Address
    message: str
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        d = {"address": self.address.to_json(), "message": self.message}
        return d if self.reason is None else {**d, "reason": self.reason}  # plans saved before it still verify


@dataclass(frozen=True)
class Plan:
    """What apply will do, and everything it was computed from. `registry` names the registry the
    live state was read from (no credentials); apply refuses the plan against any other."""

    changes: tuple[Change, ...]
    notes: tuple[Note, ...] = ()
    live_fingerprint: str = ""
    scope: tuple[str, ...] = ()  # the model names the plan was computed for
    desired: tuple[DesiredModel, ...] = ()
    registry: str = ""

    def has_changes(self) -> bool:
        return bool(self.changes)

    def is_rest_of(self, changes: Sequence[Change]) -> bool:
        """Every change of this plan is one of `changes`: the others are in the registry already (an
        apply of them stopped half-way, or someone made them by hand). The merge apply and a
        saved plan's apply accept such a plan for the one reviewed."""
        return set(self.changes) <= set(changes)

    def counts(self) -> dict[Action, int]:
        return {a: sum(1 for c in self.changes if c.action is a) for a in Action}

    def by_model(self) -> dict[str, list[Change]]:
        out: dict[str, list[Change]] = {}
        for c in self.changes:
            out.setdefault(c.address.model, []).append(c)
        return out

    def body(self) -> dict[str, Any]:
        """Everything the plan says, as plain JSON: what the hash covers."""
        from reconciler.files.convert import to_document

        return {
            "registry": self.registry,
            "scope": list(self.scope),
            "live_fingerprint": self.live_fingerprint,
            "desired": [to_document(m) for m in self.desired],
            "changes": [c.to_json() for c in self.changes],
            "notes": [n.to_json() for n in self.notes],
        }

    @property
    def plan_hash(self) -> str:
        return digest(self.body())

    @property
    def changes_digest(self) -> str:
        """Only what apply would write: two plans with equal digests make the same writes."""
        return digest([c.to_json() for c in self.changes])


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def digest(value: Any) -> str:
    return "sha256:" + hashlib.sha256(canonical_json(value).encode()).hexdigest()


def sorted_changes(changes: Iterable[Change]) -> tuple[Change, ...]:
    return tuple(sorted(changes, key=Change.sort_key))


def address_from_json(d: Mapping[str, Any]) -> Address:
    version = d.get("version")
    if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
        raise ValueError(f"version {version!r} is not a number")
    address = Address(str(d["model"]), version, str(d["field"]), d.get("key"))
    if address.field != MODEL:
        address.declaration()  # KeyError for a field no declaration has
    return address


def change_from_json(d: Mapping[str, Any]) -> Change:
    reason = d.get("reason")
    return Change(
        address_from_json(d["address"]),
        Action(d["action"]),
        d.get("before"),
        d.get("after"),
        str(reason) if reason is not None else None,
    )


def note_from_json(d: Mapping[str, Any]) -> Note:
    reason = d.get("reason")
    return Note(address_from_json(d["address"]), str(d["message"]), str(reason) if reason is not None else None)
