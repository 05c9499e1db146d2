"""Apply a plan to the registry: bounded concurrency, retries, a result per change, audit tags.

Changes run in waves so order holds where it matters: registered models are created first;
then promotions, aliases, descriptions and tags; then archives and removals (so a stage is
never left empty in between); then the audit trail on every entity that changed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential

from reconciler.plan import Action, Change, Field, Plan
from reconciler.registry import Target, classify
from reconciler.state import AUDIT_NAMESPACE, LiveState

AUDIT_TAG = AUDIT_NAMESPACE + "audit"
MAX_AUDIT_CHANGES = 20  # change descriptions kept per record
MAX_HISTORY = 25  # earlier records kept under "history", newest first
MAX_AUDIT_CHARS = 60_000  # MLflow accepts tag values up to 100,000 characters; oldest history goes first
MAX_VALUE_CHARS = 80  # before/after values in a change description
TRANSIENT_HTTP = {429, 500, 502, 503, 504}


@dataclass(frozen=True)
class Audit:
    """Who and what an apply records on everything it touches."""

    plan_hash: str
    commit: str | None = None
    pull_request: str | None = None
    approvers: tuple[str, ...] = ()
    actor: str | None = None
    applied_at: str = field(default_factory=lambda: datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))

    def tag_value(self, changes: Sequence[Change], previous: str | None = None, late: bool = False) -> str:
        """The record for one entity: this apply, then the entity's earlier records under "history"
        (newest first, bounded), so a later apply does not erase who made an earlier change."""
        record: dict[str, Any] = {
            "plan": self.plan_hash,
            "applied_at": self.applied_at,
            "commit": self.commit,
            "pull_request": self.pull_request,
            "approved_by": list(self.approvers) or None,
            "applied_by": self.actor,
            "changes": [describe(c) for c in changes[:MAX_AUDIT_CHANGES]],
        }
        if len(changes) > MAX_AUDIT_CHANGES:
            record["more_changes"] = len(changes) - MAX_AUDIT_CHANGES
        if late:
            record["recorded_late"] = True  # written by a re-run: the audit write of the apply had failed
        record = {k: v for k, v in record.items() if v is not None}
        history, truncated = _trail(previous)
        if len(history) > MAX_HISTORY:
            history, truncated = history[:MAX_HISTORY], True
        while True:
            value = json.dumps(
                {
                    **record,
                    **({"history": history} if history else {}),
                    **({"history_truncated": True} if truncated else {}),
                },
                separators=(",", ":"),
            )
            if len(value) <= MAX_AUDIT_CHARS or not history:
                return value
            history, truncated = history[:-1], True


def _trail(value: str | None) -> tuple[list[dict[str, Any]], bool]:
    """An entity's audit records from its tag, newest first, and whether older ones were dropped.
    A hand-edited or foreign value counts as no record."""
    try:
        last = json.loads(value) if value else None
    except ValueError:
        return [], False
    if not isinstance(last, dict):
        return [], False
    older = last.pop("history", [])
    truncated = bool(last.pop("history_truncated", False))
    return [last, *(r for r in older if isinstance(r, dict))] if isinstance(older, list) else [last], truncated


@dataclass(frozen=True)
class Result:
    change: Change
    error: str | None = None
    skipped: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class Report:
    results: tuple[Result, ...]
    audits: tuple[Result, ...] = ()  # one audit-tag write per touched model or version

    @property
    def audited(self) -> int:
        return sum(1 for r in self.audits if r.ok)

    def failed(self) -> tuple[Result, ...]:
        return tuple(r for r in self.results if not r.ok)

    def audit_failed(self) -> tuple[Result, ...]:
        return tuple(r for r in self.audits if not r.ok)


def describe(c: Change) -> str:
    what = c.address.field.value if c.address.key is None else f"{c.address.field.value}[{c.address.key}]"
    where = f"v{c.address.version} " if c.address.version is not None else ""
    return f"{c.action.symbol} {where}{what}: {_short(c.before)} -> {_short(c.after)}"


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


# One table: how each kind of change is written. (field, on a version?, delete?) -> call.
_WRITES: dict[tuple[Field, bool, bool], Callable[[Any, Change], Any]] = {
    (Field.MODEL, False, False): lambda m, c: m.create_registered_model(c.address.model, description=c.after or None),
    (Field.DESCRIPTION, False, False): lambda m, c: m.update_registered_model(c.address.model, description=c.after),
    (Field.DESCRIPTION, True, False): lambda m, c: m.update_model_version(
        c.address.model, str(c.address.version), description=c.after
    ),
    (Field.TAG, False, False): lambda m, c: m.set_registered_model_tag(c.address.model, c.address.key, c.after),
    (Field.TAG, False, True): lambda m, c: m.delete_registered_model_tag(c.address.model, c.address.key),
    (Field.TAG, True, False): lambda m, c: m.set_model_version_tag(
        c.address.model, str(c.address.version), c.address.key, c.after
    ),
    (Field.TAG, True, True): lambda m, c: m.delete_model_version_tag(
        c.address.model, str(c.address.version), c.address.key
    ),
    (Field.ALIAS, False, False): lambda m, c: m.set_registered_model_alias(
        c.address.model, c.address.key, str(c.after)
    ),
    (Field.ALIAS, False, True): lambda m, c: m.delete_registered_model_alias(c.address.model, c.address.key),
    (Field.STAGE, True, False): lambda m, c: m.transition_model_version_stage(
        c.address.model, str(c.address.version), c.after, archive_existing_versions=False
    ),
}


def _wave(c: Change) -> int:
    if c.address.field is Field.MODEL:
        return 0
    if c.action is Action.DELETE or (c.address.field is Field.STAGE and c.after == "Archived"):
        return 2
    return 1


def _is_transient(e: BaseException) -> bool:
    import requests
    from mlflow.exceptions import MlflowException

    if isinstance(e, (requests.exceptions.ConnectionError, requests.exceptions.Timeout)):
        return True
    if isinstance(e, MlflowException):
        return e.get_http_status_code() in TRANSIENT_HTTP or e.error_code == "TEMPORARILY_UNAVAILABLE"
    return False


_retrying = retry(
    retry=retry_if_exception(_is_transient),
    stop=stop_after_attempt(3),
    wait=wait_exponential(multiplier=0.2, max=2),
    reraise=True,
)


class Applier:
    def __init__(
        self, mlflow_client: Any, target: Target, concurrency: int, on_progress: Callable[[int], None] = lambda n: None
    ):
        self.client = mlflow_client
        self.target = target
        self.concurrency = max(1, concurrency)
        self.on_progress = on_progress

    def apply(self, plan: Plan, audit: Audit, live: LiveState | None = None) -> Report:
        """`live`: the registry as read for this plan; its audit records become each entity's history."""
        results: list[Result] = []
        failed_models: set[str] = set()
        for wave in (0, 1, 2):
            batch = [c for c in plan.changes if _wave(c) == wave]
            done = self._run(batch, failed_models)
            failed_models |= {r.change.address.model for r in done if wave == 0 and not r.ok}
            results.extend(done)
        return Report(tuple(results), self._audit(results, audit, live))

    def complete_audit(self, plan: Plan, audit: Audit, live: LiveState) -> Report:
        """Write the audit records an earlier apply of `plan` left out (a failed audit write):
        every entity the plan changes whose audit trail does not name this plan."""
        results = [Result(c) for c in plan.changes if not _audited(live, c.address.model, c.address.version, plan)]
        return Report((), self._audit(results, audit, live, late=True))

    def _run(self, changes: Sequence[Change], skip_models: set[str]) -> list[Result]:
        def one(c: Change) -> Result:
            try:
                if c.address.model in skip_models:
                    return Result(c, "skipped: creating the registered model failed", skipped=True)
                return self._write(c)
            finally:
                self.on_progress(1)

        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(one, changes))

    def _write(self, c: Change) -> Result:
        write = _WRITES[(c.address.field, c.address.version is not None, c.action is Action.DELETE)]
        try:
            _retrying(write)(self.client, c)
        except Exception as e:  # reported per change; the others go on
            error = classify(e, self.target)
            return Result(c, str(error) if error else f"{type(e).__name__}: {e}")
        return Result(c)

    def _audit(
        self, results: Iterable[Result], audit: Audit, live: LiveState | None, late: bool = False
    ) -> tuple[Result, ...]:
        touched: dict[tuple[str, int | None], list[Change]] = {}
        for r in results:
            if r.ok:
                a = r.change.address
                # Aliases live on the registered model, so their audit record does too.
                touched.setdefault((a.model, a.version), []).append(r.change)
        writes = [
            _audit_change(model, version, audit.tag_value(cs, _current_audit(live, model, version), late))
            for (model, version), cs in touched.items()
        ]
        return tuple(self._run(writes, set()))


def _current_audit(live: LiveState | None, model: str, version: int | None) -> str | None:
    m = live.models.get(model) if live else None
    if m is None:
        return None
    if version is None:
        return m.tags.get(AUDIT_TAG)
    v = m.versions.get(version)
    return v.tags.get(AUDIT_TAG) if v else None


def _audited(live: LiveState, model: str, version: int | None, plan: Plan) -> bool:
    """Whether the entity's audit trail names `plan`. A trail whose oldest records were dropped
    cannot tell, and counts as audited: an old saved plan re-run must not add a record."""
    records, truncated = _trail(_current_audit(live, model, version))
    return truncated or any(r.get("plan") == plan.plan_hash for r in records)


def _audit_change(model: str, version: int | None, value: str) -> Change:
    from reconciler.plan import Address

    return Change(Address(model, version, Field.TAG, AUDIT_TAG), Action.UPDATE, None, value)
