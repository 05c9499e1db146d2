"""Applying a plan. An apply holds the registry's lock (reconciler/apply/lock.py) from before it reads
the registry until its journal entry is closed, so two applies never interleave. Under the lock it
re-reads the registry, refuses a stale plan or one the planner would not produce, checks every
value with MLflow's own validators, completes what earlier applies left open, opens its journal
entry, and only then writes.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from reconciler import interrupt
from reconciler.apply.audit import Audit
from reconciler.apply.journal import EXPERIMENT, Journal
from reconciler.apply.lock import MAX_TTL, MIN_TTL, Lease, LockSettings, RegistryLock, default_owner, waiting_message
from reconciler.apply.recording import Recovered, by_entity, recover, unrecorded, with_records, write_records
from reconciler.apply.writer import Applier, Result
from reconciler.engine import check, with_runs
from reconciler.errors import PlanFileError, ReconcilerError, RegistryError, StalePlanError, ValidationErrors
from reconciler.fields.fingerprint import fingerprint
from reconciler.masking import clip
from reconciler.plan.builder import build_plan
from reconciler.plan.values import Plan
from reconciler.registry import mlflow_rules
from reconciler.registry.session import Session
from reconciler.state import LiveState

TTL_ENV = "RECONCILER_LOCK_TTL"


def lock_settings_from_env() -> LockSettings:
    """RECONCILER_LOCK_TTL (seconds, default 60, MIN_TTL to MAX_TTL): how long a dead applier's
    lock lasts. Lower it only where requests are fast (tests, benchmarks); the holder stops writing
    a third of it early. The one place it is read: anything else is a one-line user error."""
    text = os.environ.get(TTL_ENV, "").strip()
    try:
        ttl = float(text) if text else 60.0
    except ValueError:
        ttl = math.nan
    if not text.isascii():  # float() reads full-width and other Unicode digits too: ASCII only
        ttl = math.nan
    if not MIN_TTL <= ttl <= MAX_TTL:  # NaN and the infinities too
        raise ReconcilerError(
            f"{TTL_ENV}={text[:40]!r} is not a number of seconds from {MIN_TTL:g} to {MAX_TTL:g}; "
            "set one in that range, or unset it for the default of 60"
        )
    return LockSettings(ttl=ttl, margin=ttl / 3, poll=min(0.5, ttl / 10), max_poll=min(5.0, ttl / 4))


@dataclass(frozen=True)
class ApplyOptions:
    concurrency: int = 8
    lock_timeout: float = 600.0
    on_progress: Callable[[int], None] = lambda n: None
    on_wait: Callable[[str], None] = lambda message: None  # another apply holds the lock
    on_warning: Callable[[str], None] = lambda message: None
    lock_settings: LockSettings = field(default_factory=lambda: lock_settings_from_env())


@dataclass(frozen=True)
class Report:
    plan: Plan
    results: tuple[Result, ...] = ()
    records: tuple[Result, ...] = ()  # one audit-record write per touched model or version
    recovered: tuple[Recovered, ...] = ()
    already_applied: bool = False
    lock_lost: str | None = None  # the apply stopped writing: its journal entry stays open for the next one
    journal_open: str | None = None  # why the journal entry could not be closed: the next apply closes it
    journal_run: tuple[str, str] | None = None  # (experiment id, run id) of this apply's journal entry

    def failed(self) -> tuple[Result, ...]:
        return tuple(r for r in self.results if not r.ok)

    def unrecorded(self) -> tuple[Result, ...]:
        return tuple(r for r in self.records if not r.ok)


def apply(session: Session, saved: Plan, audit: Audit, options: ApplyOptions) -> Report:
    if saved.registry != session.target.identity:
        raise PlanFileError(
            f"the plan was made against {saved.registry or 'an unnamed registry'}, not {session.target.identity}; "
            "make the plan against the registry you apply it to"
        )
    clients = session.clients
    with _locked(session, audit, options) as lease:
        # completing an earlier apply's records (recover) is not one of this plan's changes
        interrupt.leaves(interrupt.WRITES, "none of the plan's changes was written")
        live = session.read(saved.desired)
        rest = _check_fresh(session, saved, live)
        applier = Applier(clients, session.target, options.concurrency, options.on_progress, _fenced(lease))
        journal = Journal(clients.registry)
        recovered = tuple(recover(journal, applier, live, session.target.identity))
        live = with_records(live, (r for done in recovered for r in done.records))  # the records ours replace
        if rest is None or not rest.has_changes():
            return Report(saved, recovered=recovered, already_applied=rest is None)
        saved = rest
        _check_values(saved)
        lease.ensure()
        run_id = _open_journal(journal, saved, audit, session)
        interrupt.leaves(
            interrupt.WRITES,
            f"the journal entry {run_id} stays open: the next 'reconciler apply' finds which changes were applied "
            "and finishes the job",
        )
        entry = (journal.experiment_id() or "", run_id)
        results = applier.apply(saved.changes)
        if applier.lock_lost is not None:  # another apply may hold it now: no more writes, not even records
            return Report(saved, results, recovered=recovered, lock_lost=applier.lock_lost, journal_run=entry)
        owed = by_entity(r.change for r in results if r.ok)
        records = write_records(applier, audit, run_id, owed, live)
        lease.ensure()
        reason = _finish_journal(journal, run_id, results, records, session)
        interrupt.leaves(interrupt.WRITES, "the apply had finished writing")
    return Report(saved, results, records, recovered, journal_open=reason, journal_run=entry)


def _fenced(lease: Lease) -> Callable[[], None]:
    """What runs before every write: after SIGTERM or Ctrl-C nothing more is written (the other
    workers too), nor once the lease is lost."""

    def before_write() -> None:
        interrupt.check()
        lease.ensure()

    return before_write


def _finish_journal(
    journal: Journal, run_id: str, results: tuple[Result, ...], records: tuple[Result, ...], session: Session
) -> str | None:
    """Close the journal entry with every outcome; None, or why it could not be (the registry went
    away after the last write): the entry stays open, and the next apply's recovery closes it."""
    from mlflow.exceptions import MlflowException

    from reconciler.registry.clients import translate_errors

    try:
        with translate_errors(session.target):
            journal.finish(run_id, results, unrecorded(records))
    except MlflowException as e:
        return clip(e.message.split("\n", 1)[0], 300)
    except RegistryError as e:
        return clip(str(e), 300)
    return None


def _check_fresh(session: Session, saved: Plan, live: LiveState) -> Plan | None:
    """The plan to apply: `saved`, when the registry is as the plan found it and the plan is what
    the planner makes of it; the plan made now, when its changes are the rest of the saved plan's
    (Plan.is_rest_of, as the merge apply accepts: an apply of it was killed half-way); None when the
    registry already holds what the plan's desired state asks. Else refuse."""
    now = fingerprint(live, saved.scope)
    live = with_runs(session, saved.desired, live, changed_only=True)
    fresh = build_plan(saved.desired, live, saved.registry)
    if now != saved.live_fingerprint:
        if not fresh.has_changes():
            return None
        if fresh.scope == saved.scope and fresh.is_rest_of(saved.changes):
            check(saved.desired, live)
            return fresh
        raise StalePlanError(
            f"the registry changed since this plan was made (live state {now[:19]}…, plan made against "
            f"{saved.live_fingerprint[:19]}…); run 'reconciler plan' (or the one-step apply) again and review "
            "the new plan"
        )
    check(saved.desired, live)
    if fresh.changes != saved.changes or fresh.scope != saved.scope:
        raise PlanFileError(
            "the plan's changes are not what its desired state gives against this registry (was it edited?); "
            "nothing was written; make the plan again"
        )
    return saved


def _open_journal(journal: Journal, saved: Plan, audit: Audit, session: Session) -> str:
    from mlflow.exceptions import MlflowException

    from reconciler.registry.clients import translate_errors

    try:
        with translate_errors(session.target):
            return journal.begin(saved, audit)
    except MlflowException as e:  # translate_errors re-raises what it does not recognise
        raise RegistryError(f"cannot open the audit journal: {clip(e.message, 300)}; nothing was written") from e
    except RegistryError as e:
        if "HTTP 403" not in str(e):
            raise
        raise RegistryError(
            f"cannot open the audit journal (experiment {EXPERIMENT!r}) on {session.target.describe()}: permission "
            "denied (HTTP 403); nothing was written. The applying user needs EDIT on that experiment and on the "
            "models it changes: the experiment's owner or an admin grants it"
        ) from e


def _check_values(saved: Plan) -> None:
    errors = mlflow_rules.check(saved.desired)
    if errors:
        raise ValidationErrors(errors)


@contextlib.contextmanager
def _locked(session: Session, audit: Audit, options: ApplyOptions) -> Iterator[Lease]:
    """The registry lock (reconciler/apply/lock.py), held from before the registry is read until the
    journal entry is closed. Waiting is bounded; the holder is named while waiting."""
    from reconciler.registry.clients import translate_errors

    owner = default_owner(audit.actor or "unknown", audit.plan_hash, audit.pull_request, audit.commit)
    lock = RegistryLock(session.clients.registry, owner, options.lock_settings, where=session.target.describe())
    with translate_errors(session.target):
        waiting = (lambda t: options.on_wait(waiting_message(t))) if options.lock_timeout > 0 else (lambda t: None)
        lease = lock.acquire(options.lock_timeout, on_wait=waiting)
    with lease:
        interrupt.leaves("lock", lambda: lease.release_warning or "the registry lock is released")
        yield lease
    interrupt.leaves("lock", None)
    if lease.release_warning:
        options.on_warning(lease.release_warning)
