"""Apply a plan's changes: bounded concurrency, retries, an honest outcome per change.

Changes run in waves so order holds where it matters: registered models are created first;
then promotions, aliases, descriptions and tags; then archives and removals (so a stage is
never left empty in between). Before every attempt of every write the caller's `before_write`
runs (the lock's fencing check, no I/O): a holder that lost its lease stops writing at once.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import Enum

from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential

from reconciler.errors import WritesStopped
from reconciler.fields import writes
from reconciler.fields.seams import WriteClients
from reconciler.plan.values import MODEL, Action, Change
from reconciler.registry.target import Target

TRANSIENT_HTTP = {429, 500, 502, 503, 504}


class Outcome(str, Enum):
    APPLIED = "applied"
    FAILED = "failed"  # the registry answered with an error: not applied
    UNCONFIRMED = "unconfirmed"  # the connection broke: it may or may not have been applied
    SKIPPED = "skipped"  # not attempted (its registered model could not be created, or the lock was lost)


STOPPED = "not attempted: the apply stopped writing (why is said once, with the summary)"


@dataclass(frozen=True)
class Result:
    change: Change
    outcome: Outcome = Outcome.APPLIED
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.APPLIED


def wave(c: Change) -> int:
    if c.address.field == MODEL:
        return 0
    return 2 if c.demotes() else 1


def write(clients: WriteClients, c: Change) -> None:
    """The declared write for one change."""
    a = c.address
    if a.field == MODEL:
        writes.create_model(clients, a, c.after or "")
        return
    declared = a.declaration()
    if c.action is Action.DELETE:
        assert declared.delete is not None, f"{a}: {declared.name} has no delete"
        declared.delete(clients, a)
    else:
        declared.write(clients, a, c.after)


def _is_transient(e: BaseException) -> bool:
    import requests
    from mlflow.exceptions import MlflowException

    if isinstance(e, (requests.exceptions.ConnectionError, requests.exceptions.Timeout)):
        return True
    if isinstance(e, MlflowException):
        return e.get_http_status_code() in TRANSIENT_HTTP or e.error_code == "TEMPORARILY_UNAVAILABLE"
    return "database is locked" in str(e)  # SQLite: another process is writing


def _unconfirmed(e: BaseException) -> bool:
    """A write whose answer never came, or a server that failed while handling it (HTTP 5xx, a
    broken database connection): it may have been applied. Only a refusal (4xx) proves it was not."""
    import requests
    import sqlalchemy.exc
    from mlflow.exceptions import MlflowException

    if isinstance(e, (requests.exceptions.ConnectionError, requests.exceptions.Timeout)):
        return True
    if isinstance(e, MlflowException):
        return (e.get_http_status_code() or 500) >= 500
    if isinstance(e, sqlalchemy.exc.DBAPIError):
        return e.connection_invalidated or isinstance(e, sqlalchemy.exc.OperationalError)
    return "Max retries exceeded" in str(e) or "Connection aborted" in str(e)


_retrying = retry(
    retry=retry_if_exception(_is_transient),
    stop=stop_after_attempt(3),
    wait=wait_exponential(multiplier=0.2, max=2),
    reraise=True,
)


class Applier:
    def __init__(
        self,
        clients: WriteClients,
        target: Target,
        concurrency: int,
        on_progress: Callable[[int], None] = lambda n: None,
        before_write: Callable[[], None] = lambda: None,
    ):
        self.clients = clients
        self.target = target
        self.concurrency = max(1, concurrency if target.concurrent_writes else 1)
        self.on_progress = on_progress
        self.before_write = before_write
        self.lock_lost: str | None = None

    def apply(self, changes: Sequence[Change]) -> tuple[Result, ...]:
        """Every change's outcome. Once the lock is lost, nothing more is attempted: the rest are
        SKIPPED, and `lock_lost` says why."""
        results: list[Result] = []
        failed_models: set[str] = set()
        self.lock_lost = None
        for n in (0, 1, 2):
            batch = [c for c in changes if wave(c) == n]
            if not batch:
                continue
            if self.lock_lost is not None:
                results += [Result(c, Outcome.SKIPPED, STOPPED) for c in batch]
                continue
            done = self.run(batch, failed_models)
            failed_models |= {r.change.address.model for r in done if n == 0 and not r.ok}
            results.extend(done)
        return tuple(results)

    def run(self, changes: Sequence[Change], skip_models: Collection[str] = ()) -> list[Result]:
        def one(c: Change) -> Result:
            try:
                if c.address.model in skip_models:
                    return Result(c, Outcome.SKIPPED, "skipped: creating the registered model failed")
                return self._write(c)
            finally:
                self.on_progress(1)

        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(one, changes))

    def _write(self, c: Change) -> Result:
        from reconciler.registry.clients import classify

        attempts = 0

        def attempt() -> None:
            nonlocal attempts
            self.before_write()
            attempts += 1
            write(self.clients, c)

        try:
            _retrying(attempt)()
        except WritesStopped as e:  # lock lost or signal: what this change became depends on its attempts
            self.lock_lost = str(e)
            if attempts:  # the reason is said once, after the changes (commands/apply.py), not per change
                return Result(c, Outcome.UNCONFIRMED, f"{STOPPED}; an earlier attempt may have been applied")
            return Result(c, Outcome.SKIPPED, STOPPED)
        except Exception as e:  # reported per change; the others go on
            error = classify(e, self.target)
            message = str(error) if error else f"{type(e).__name__}: {e}"
            if _unconfirmed(e):
                return Result(c, Outcome.UNCONFIRMED, f"{message} (it may or may not have been applied)")
            return Result(c, Outcome.FAILED, message)
        return Result(c)
