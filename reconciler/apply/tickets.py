"""Lock tickets as the registry stores them: versions of the reserved lock model (see lock.py).

A ticket is a model version whose tags say who holds or awaits the lock, whose state tag says
whether it is live, and whose description carries a heartbeat counter. Every call is retried on
transient errors (HTTP 429/5xx, connection errors, SQLite "database is locked"), bounded.
"""

from __future__ import annotations

import math
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential, wait_random

from reconciler.errors import LockError

if TYPE_CHECKING:
    from mlflow import MlflowClient

TAG = "gitops.lock."
STATE_TAG = TAG + "state"
TTL_TAG = TAG + "ttl"  # the holder's ttl in seconds: others judge the ticket by it (lock.judged_ttl)
CLEARED_BY_TAG = TAG + "cleared_by"  # who cleared the ticket with `reconciler unlock` (set before its state)
LIVE, RELEASED, EXPIRED = "live", "released", "expired"
# A source every backend accepts: a server refuses local paths (and file:) without a run whose
# artifacts contain them, and host-addressed schemes (http, ftp, ...) outside its artifact store.
SOURCE = "gitops-lock:/ticket"
MAX_VALUE = 200  # characters kept of each owner field (PostgreSQL: description is varchar(5000))
TRANSIENT_HTTP = {429, 500, 502, 503, 504}
MODEL_DESCRIPTION = (
    "Reserved by the reconciler: the registry lock that keeps two 'reconciler apply' runs from "
    "interleaving. Each version is one applier's ticket; the live ticket with the lowest number holds "
    "the lock, and its tags say who that is. Do not delete this model or its versions by hand: an "
    "apply whose ticket disappears stops half-way, and a re-created model numbers tickets from 1 again. "
    "A holder that died loses the lock by itself once its heartbeats stop."
)


def _clean(value: str) -> str:
    """One line, no control characters, bounded: values end up in one-line messages."""
    text = "".join("?" if unicodedata.category(c)[0] == "C" else c for c in value)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def now() -> float:
    """The lock's clock: monotonic, counts suspended time too (CLOCK_BOOTTIME on Linux), and is
    the same for every process on a machine."""
    return time.clock_gettime(time.CLOCK_BOOTTIME) if hasattr(time, "CLOCK_BOOTTIME") else time.monotonic()


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Owner:
    """Who holds or awaits the lock, as the ticket's tags record it. Values are kept to one
    line of at most MAX_VALUE characters, whoever wrote them."""

    actor: str
    plan: str | None = None
    pull_request: str | None = None
    commit: str | None = None
    host: str = "?"
    pid: str = "?"
    started_at: str = "?"
    id: str = ""  # unique per acquire: tells this applier's tickets from everybody else's

    def __post_init__(self) -> None:
        for f in fields(self):
            if (value := getattr(self, f.name)) is not None:
                object.__setattr__(self, f.name, _clean(str(value)))

    def tags(self) -> dict[str, str]:
        return {TAG + f.name: v for f in fields(self) if (v := getattr(self, f.name)) is not None}

    @classmethod
    def from_tags(cls, tags: dict[str, str]) -> Owner:
        return cls(**{"actor": "?", **{f.name: tags[TAG + f.name] for f in fields(cls) if TAG + f.name in tags}})

    def label(self) -> str:
        """`ci (pull request 17, commit c0ffee1, host runner-3, pid 4242)`"""
        parts = [
            *([f"pull request {self.pull_request}"] if self.pull_request else []),
            *([f"commit {self.commit}"] if self.commit else []),
            f"host {self.host}",
            f"pid {self.pid}",
        ]
        return f"{self.actor} ({', '.join(parts)})"


@dataclass(frozen=True)
class Ticket:
    number: int
    owner: Owner
    state: str
    description: str
    created_ms: int
    updated_ms: int
    ttl: float | None = None  # as the ticket claims it (TTL_TAG); None when missing or not a number
    cleared_by: str | None = None  # who ran `reconciler unlock` on it (CLEARED_BY_TAG), when someone did

    @property
    def beat(self) -> tuple[int, str]:
        """Changes with every heartbeat (the description carries a counter)."""
        return self.updated_ms, self.description

    def describe(self) -> str:
        """`ci (pull request 17, commit c0ffee1, host runner-3, pid 4242) since 2026-11-22T07:10:03Z`"""
        return f"{self.owner.label()} since {iso(self.created_ms)}"


def _ticket(mv: Any) -> Ticket:
    tags = dict(mv.tags or {})
    return Ticket(
        int(mv.version),
        Owner.from_tags(tags),
        tags.get(STATE_TAG, "?"),
        mv.description or "",
        int(mv.creation_timestamp or 0),
        int(mv.last_updated_timestamp or mv.creation_timestamp or 0),
        _seconds(tags.get(TTL_TAG)),
        _clean(tags[CLEARED_BY_TAG]) if CLEARED_BY_TAG in tags else None,
    )


def _seconds(text: str | None) -> float | None:
    """A positive, finite number of seconds, or None (missing, or written by someone else by hand)."""
    try:
        value = float(text) if text is not None else math.nan
    except ValueError:
        return None
    return value if math.isfinite(value) and value > 0 else None


def _error_code(e: BaseException) -> str | None:
    return getattr(e, "error_code", None)


def _transient(e: BaseException) -> bool:
    import requests
    from mlflow.exceptions import MlflowException

    if isinstance(e, (requests.exceptions.ConnectionError, requests.exceptions.Timeout)):
        return True
    if not isinstance(e, MlflowException):
        return False
    # INTERNAL_ERROR: unreachable server after MLflow's own retries, or version-number contention.
    return (
        e.get_http_status_code() in TRANSIENT_HTTP
        or e.error_code in ("TEMPORARILY_UNAVAILABLE", "INTERNAL_ERROR")
        or "database is locked" in str(e)
    )


_retrying = retry(
    retry=retry_if_exception(_transient),
    stop=stop_after_attempt(4),
    wait=wait_exponential(multiplier=0.25, max=2) + wait_random(0, 0.25),
    reraise=True,
)


class Tickets:
    """The lock model's tickets: take, list, heartbeat, retire."""

    def __init__(self, mlflow_client: MlflowClient, model: str, where: str = "the registry"):
        if "'" in model or "`" in model:
            raise ValueError(f"lock model name {model!r} cannot be quoted in a search filter")
        self.client, self.model, self.where = mlflow_client, model, where
        self.created_model = False
        self.calls = 0
        self.last_retire_error: str | None = None
        self._can_delete = True
        self._owner = Owner("?")
        self._ttl = 0.0
        self._count = threading.Lock()

    def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return self._timed(fn, *args, **kwargs)[0]

    def _timed(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, float]:
        """The result, and when the attempt that produced it started (retries start later)."""

        def attempt() -> tuple[Any, float]:
            started = now()
            with self._count:
                self.calls += 1
            return fn(*args, **kwargs), started

        return _retrying(attempt)()

    def take(self, owner: Owner, ttl: float) -> tuple[Ticket, float]:
        """A new ticket claiming `ttl`, and when the call that created it started (its first
        heartbeat). On first use of the registry, the lock model first."""
        self._owner, self._ttl = owner, ttl
        try:
            return self._create()
        except Exception as e:
            # Under basic auth a missing model is refused (403) rather than not found.
            if not (self.is_missing(e) or self.is_denied(e)):
                raise
        self.created_model = self._create_model()
        try:
            return self._create()
        except Exception as e:
            if self.is_denied(e):
                raise LockError(
                    f"{self.where} refused a lock ticket on the registered model '{self.model}' (HTTP 403); "
                    f"ask an admin to grant this user EDIT on '{self.model}' (MANAGE also lets it delete "
                    "released tickets instead of tagging them)"
                ) from None
            raise

    def _create(self) -> tuple[Ticket, float]:
        tags = {STATE_TAG: LIVE, TTL_TAG: repr(float(self._ttl)), **self._owner.tags()}
        mv, started = self._timed(
            self.client.create_model_version,
            self.model,
            SOURCE,
            tags=tags,
            description=self._description(0),
            await_creation_for=0,
        )
        return _ticket(mv), started

    def _create_model(self) -> bool:
        try:
            self._call(
                self.client.create_registered_model,
                self.model,
                tags={TAG + "reserved": "true"},
                description=MODEL_DESCRIPTION,
            )
            return True
        except Exception as e:
            if _error_code(e) == "RESOURCE_ALREADY_EXISTS":
                return False
            if self.is_denied(e):
                raise LockError(
                    f"{self.where} has no registered model '{self.model}' (the registry lock) and refused to "
                    "create it (HTTP 403); ask an admin to create it, or to let this user create registered models"
                ) from None
            raise

    def _description(self, beat: int) -> str:
        return (
            f"Registry lock ticket of {self._owner.label()}: heartbeat {beat}. "
            "Written by 'reconciler apply'; retired when released or expired."
        )

    def live(self) -> list[Ticket]:
        flt = f"name = '{self.model}' AND tags.`{STATE_TAG}` = '{LIVE}'"
        found: list[Ticket] = []
        token = None
        while True:
            page = self._call(self.client.search_model_versions, filter_string=flt, max_results=1000, page_token=token)
            found.extend(t for t in map(_ticket, page) if t.state == LIVE)
            token = page.token
            if not token:
                return found

    def beat(self, number: int, beat: int) -> tuple[Ticket, float]:
        """Heartbeat: the ticket as it is now, and when the call that wrote it started."""
        mv, started = self._timed(self.client.update_model_version, self.model, str(number), self._description(beat))
        return _ticket(mv), started

    def retire(self, number: int, state: str) -> None:
        """Delete the ticket; where this user may not delete (EDIT), tag it `state` instead."""
        try:
            if self._can_delete:
                try:
                    self._call(self.client.delete_model_version, self.model, str(number))
                    return
                except Exception as e:
                    if not self.is_denied(e):
                        raise
                    self._can_delete = False
            self._call(self.client.set_model_version_tag, self.model, str(number), STATE_TAG, state)
        except Exception as e:
            if not self.is_missing(e):  # already gone (a retried delete, or another applier's)
                raise

    def retire_quietly(self, number: int, state: str) -> None:
        """Best effort, for other appliers' dead tickets: everyone ignores them anyway."""
        try:
            self.retire(number, state)
        except Exception as e:  # kept for diagnosis; others judge a dead ticket dead the same way
            self.last_retire_error = f"ticket {number}: {type(e).__name__}: {e}"

    @staticmethod
    def is_missing(e: BaseException) -> bool:
        return _error_code(e) == "RESOURCE_DOES_NOT_EXIST"

    @staticmethod
    def is_denied(e: BaseException) -> bool:
        status = getattr(e, "get_http_status_code", lambda: None)()
        return _error_code(e) == "PERMISSION_DENIED" or status == 403
