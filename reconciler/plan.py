"""The plan: frozen, typed changes with a versioned JSON form. No I/O, no MLflow."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from reconciler.errors import PlanFileError

FORMAT_VERSION = 1


class Action(str, Enum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"

    @property
    def symbol(self) -> str:
        return {"create": "+", "update": "~", "delete": "-"}[self.value]


class Field(str, Enum):
    """What a change touches. The order here is the order changes apply within one model."""

    MODEL = "model"  # the registered model itself (create)
    STAGE = "stage"
    ALIAS = "alias"
    DESCRIPTION = "description"
    TAG = "tag"


@dataclass(frozen=True, order=True)
class Address:
    model: str
    version: int | None = None
    field: Field = Field.MODEL
    key: str | None = None  # tag key or alias name

    def __str__(self) -> str:
        parts = [self.model]
        if self.version is not None:
            parts.append(f"v{self.version}")
        if self.field is not Field.MODEL:
            parts.append(self.field.value if self.key is None else f"{self.field.value}[{self.key}]")
        return " ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model, "version": self.version, "field": self.field.value, "key": self.key}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Address:
        return cls(d["model"], d.get("version"), Field(d["field"]), d.get("key"))


@dataclass(frozen=True)
class Change:
    address: Address
    action: Action
    before: Any = None
    after: Any = None
    reason: str | None = None  # the policy that asked for it, when it was not the file directly

    def sort_key(self) -> tuple:
        a = self.address
        archive_last = a.field is Field.STAGE and self.after == "Archived"
        order = list(Field).index(a.field)
        return (a.model, order + (10 if archive_last else 0), a.version or 0, a.key or "")

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"address": self.address.to_json(), "action": self.action.value}
        d.update(before=self.before, after=self.after, reason=self.reason)
        return d

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Change:
        return cls(
            Address.from_json(d["address"]), Action(d["action"]), d.get("before"), d.get("after"), d.get("reason")
        )


@dataclass(frozen=True)
class Note:
    """Something the plan reports but will not change (unmanaged tags, aliases, models)."""

    address: Address
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"address": self.address.to_json(), "message": self.message}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Note:
        return cls(Address.from_json(d["address"]), d["message"])


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...]
    notes: tuple[Note, ...] = ()
    live_fingerprint: str = ""
    scope: tuple[str, ...] = ()  # the model names the plan was computed for
    desired: tuple[Mapping[str, Any], ...] = field(default=(), compare=False)

    def has_changes(self) -> bool:
        return bool(self.changes)

    def counts(self) -> dict[Action, int]:
        return {a: sum(1 for c in self.changes if c.action is a) for a in Action}

    def by_model(self) -> dict[str, list[Change]]:
        out: dict[str, list[Change]] = {}
        for c in self.changes:
            out.setdefault(c.address.model, []).append(c)
        return out

    @property
    def plan_hash(self) -> str:
        body = {"changes": [c.to_json() for c in self.changes], "live": self.live_fingerprint}
        return "sha256:" + hashlib.sha256(canonical_json(body).encode()).hexdigest()

    def to_json(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "plan_hash": self.plan_hash,
            "live_fingerprint": self.live_fingerprint,
            "scope": list(self.scope),
            "summary": {a.value: n for a, n in self.counts().items()},
            "changes": [c.to_json() for c in self.changes],
            "notes": [n.to_json() for n in self.notes],
            "desired": list(self.desired),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any], source: str = "plan") -> Plan:
        version = d.get("format_version") if isinstance(d, Mapping) else None
        if version != FORMAT_VERSION:
            raise PlanFileError(
                f"{source}: plan format_version {version!r} is not {FORMAT_VERSION}; "
                "make the plan again with this version of reconciler"
            )
        try:
            plan = cls(
                changes=tuple(Change.from_json(c) for c in d["changes"]),
                notes=tuple(Note.from_json(n) for n in d.get("notes", [])),
                live_fingerprint=d["live_fingerprint"],
                scope=tuple(d["scope"]),
                desired=tuple(d.get("desired", [])),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise PlanFileError(f"{source}: not a valid plan ({e}); make it again with 'reconciler plan --out'") from e
        if d.get("plan_hash") != plan.plan_hash:
            raise PlanFileError(
                f"{source}: plan_hash does not match its changes (was the file edited?); make the plan again"
            )
        return plan


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def sorted_changes(changes: Iterable[Change]) -> tuple[Change, ...]:
    return tuple(sorted(changes, key=Change.sort_key))
