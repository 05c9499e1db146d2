"""Who applied what: the audit record each touched registered model and model version carries.

The record on an entity is bounded: the latest apply that touched it (plan hash, time, commit,
pull request, approvers, who applied it, its changes there) and the id of that apply's journal run,
which holds the full record (reconciler/apply/journal.py), and the id of the run before it, so the
entity's history can be walked back. It always fits MLflow's smallest limit for a tag value
(varchar(5000) on a registered model in PostgreSQL), however many applies came before.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from reconciler.names import GITOPS_PREFIX
from reconciler.plan.values import Change

AUDIT_TAG = GITOPS_PREFIX + "audit"
MAX_RECORD_CHARS = 4500  # below varchar(5000), with room for the escaping of odd characters
MAX_FIELD_CHARS = 200  # commit, pull request, actor, one approver
MAX_VALUE_CHARS = 60  # before/after values in a change's description


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Audit:
    """Who and what an apply records on everything it touches."""

    plan_hash: str
    commit: str | None = None
    pull_request: str | None = None
    approvers: tuple[str, ...] = ()
    actor: str | None = None
    applied_at: str = field(default_factory=now)

    def to_json(self) -> dict[str, Any]:
        return {
            "plan": self.plan_hash,
            "applied_at": self.applied_at,
            "commit": self.commit,
            "pull_request": self.pull_request,
            "approved_by": list(self.approvers),
            "applied_by": self.actor,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Audit:
        return cls(
            plan_hash=str(d["plan"]),
            commit=d.get("commit"),
            pull_request=d.get("pull_request"),
            approvers=tuple(d.get("approved_by") or ()),
            actor=d.get("applied_by"),
            applied_at=str(d.get("applied_at", "")),
        )


def describe(c: Change) -> str:
    a = c.address
    return f"{c.action.symbol} {a.label()}: {_short(c.before)} -> {_short(c.after)}"


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def _clip(value: str | None) -> str | None:
    return value if value is None or len(value) <= MAX_FIELD_CHARS else value[: MAX_FIELD_CHARS - 1] + "…"


def entity_record(
    audit: Audit,
    run_id: str,
    changes: Sequence[Change],
    previous: str | None = None,
    flags: Mapping[str, bool] | None = None,
) -> str:
    """The bounded record for one entity. `previous`: the journal run of the record it replaces.
    `flags`: e.g. recorded_late (written after the apply, from its journal)."""
    record: dict[str, Any] = {
        "plan": audit.plan_hash,
        "run": run_id,
        "applied_at": audit.applied_at,
        "commit": _clip(audit.commit),
        "pull_request": _clip(audit.pull_request),
        "approved_by": [_clip(a) for a in audit.approvers] or None,
        "applied_by": _clip(audit.actor),
        "changes": [describe(c) for c in changes],
        "previous": previous,
        **(flags or {}),
    }
    record = {k: v for k, v in record.items() if v is not None}
    return _fit(record, len(changes), len(audit.approvers))


def _fit(record: dict[str, Any], changes: int, approvers: int) -> str:
    """Drop change descriptions, then approvers, until the record fits; the journal has them all."""
    while True:
        text = json.dumps(record, separators=(",", ":"), ensure_ascii=False)
        if len(text) <= MAX_RECORD_CHARS:
            return text
        if record.get("changes"):
            record["changes"] = record["changes"][:-1]
            record["more_changes"] = changes - len(record["changes"])
        elif record.get("approved_by"):
            record["approved_by"] = record["approved_by"][:-1]
            record["more_approvers"] = approvers - len(record["approved_by"])
        else:
            keep = ("plan", "run", "applied_at", "previous")
            return json.dumps({**{k: record[k] for k in keep if k in record}, "truncated": True})


def read_record(value: str | None) -> dict[str, Any] | None:
    """An entity's current record; a hand-edited or foreign value counts as none."""
    try:
        record = json.loads(value) if value else None
    except ValueError:
        return None
    return record if isinstance(record, dict) and isinstance(record.get("plan"), str) else None
