"""The audit journal: one MLflow run per apply, in the tracking store's experiment `gitops.audit`.

A run is opened before the first write, with everything the apply intends (the plan's changes,
who applies it, the commit, pull request and approvers), and closed after the last, with each
change's outcome and the entities whose audit record could not be written. It lives in the
registry's own database, so it is backed up with it, and it is unbounded: run tags hold at most
8,000 characters each, so long values are split over numbered tags.

What the journal gives that inference cannot: an apply that completes audit records late, or
recovers an interrupted apply, knows from the journal which changes the reconciler itself made
and for whom, and credits nothing else.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.apply.audit import Audit, now
from reconciler.apply.writer import Outcome, Result
from reconciler.errors import RegistryError
from reconciler.masking import mask
from reconciler.plan.values import Change, Plan, change_from_json

EXPERIMENT = "gitops.audit"
STATE = "gitops.state"
OPEN = "gitops.open"  # "1" while the entry owes audit records (or its apply never finished)
APPLYING, APPLIED, FAILED, INCOMPLETE, INTERRUPTED = "applying", "applied", "failed", "incomplete", "interrupted"
KIND, UNLOCK, UNLOCKED = "gitops.kind", "unlock", "unlocked"  # a run of `reconciler unlock`, not an apply
FOUND, NOT_FOUND = "applied", "not_found"  # an interrupted apply's changes, as found at recovery
CHUNK = 7_500  # run tag values: varchar(8000)
MAX_TAGS_PER_BATCH = 100  # MLflow's log_batch limit

Entity = tuple[str, int | None]  # (model, version)


def model_tag(name: str) -> str:
    """The tag that indexes a run by a model it touched (tag keys cannot hold every model name)."""
    return "gitops.m." + hashlib.sha256(name.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Entry:
    run_id: str
    audit: Audit
    registry: str
    state: str
    changes: tuple[Change, ...]
    outcomes: Mapping[int, str] = field(default_factory=dict)  # change index -> Outcome value
    errors: Mapping[int, str] = field(default_factory=dict)
    unrecorded: tuple[Entity, ...] = ()  # entities whose audit record was not written

    def applied(self) -> list[Change]:
        return [c for i, c in enumerate(self.changes) if self.outcomes.get(i) == Outcome.APPLIED.value]


def _chunks(prefix: str, text: str) -> dict[str, str]:
    return {f"{prefix}.{i // CHUNK:04d}": text[i : i + CHUNK] for i in range(0, len(text), CHUNK)} or {
        f"{prefix}.0000": ""
    }


def _joined(tags: Mapping[str, str], prefix: str) -> Any:
    parts = sorted((k, v) for k, v in tags.items() if k.startswith(prefix + "."))
    return json.loads("".join(v for _, v in parts)) if parts else None


class Journal:
    def __init__(self, client: Any):
        self.client = client  # mlflow.MlflowClient of the tracking store
        self._experiment: str | None = None
        self._deleted = False

    def experiment_id(self, create: bool = False, write: bool = False) -> str | None:
        """`create`: make the journal when there is none. `create` or `write`: refuse a deleted one
        (MLflow keeps it, and its runs, until `mlflow gc`; none of them can be written)."""
        if self._experiment is None:
            found = self.client.get_experiment_by_name(EXPERIMENT)
            if found is None and create:
                found = self._create_experiment()
            self._experiment = found.experiment_id if found is not None else None
            self._deleted = found is not None and found.lifecycle_stage == "deleted"
        if self._deleted and (create or write):
            raise deleted_journal(self._experiment or "")
        return self._experiment

    def _create_experiment(self) -> Any:
        from mlflow.exceptions import MlflowException

        try:
            self.client.create_experiment(EXPERIMENT, tags={"gitops.purpose": "audit journal of reconciler applies"})
        except MlflowException as e:
            if e.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
        return self.client.get_experiment_by_name(EXPERIMENT)

    def begin(self, plan: Plan, audit: Audit) -> str:
        """Open the run before the first write; nothing is written if this fails."""
        experiment = self.experiment_id(create=True)
        run = self.client.create_run(
            experiment, run_name=f"apply {plan.plan_hash[7:19]}", tags={STATE: APPLYING, OPEN: "1"}
        )
        tags = {
            "gitops.plan": plan.plan_hash,
            "gitops.registry": plan.registry,
            **_chunks("gitops.audit", json.dumps(audit.to_json())),
            **_chunks("gitops.intent", json.dumps([c.to_json() for c in plan.changes])),
            **{model_tag(m): "1" for m in sorted(plan.by_model())},
        }
        self._log(run.info.run_id, tags)
        return run.info.run_id

    def finish(self, run_id: str, results: Sequence[Result], unrecorded: Iterable[Entity]) -> None:
        missing = sorted(set(unrecorded), key=lambda e: (e[0], e[1] or 0))
        failed = any(not r.ok for r in results)
        body = {
            "outcomes": {str(i): r.outcome.value for i, r in enumerate(results)},
            "errors": {str(i): mask(r.error) for i, r in enumerate(results) if r.error},
            "unrecorded": [list(e) for e in missing],
        }
        state = FAILED if failed else (INCOMPLETE if missing else APPLIED)
        self._log(run_id, {**_chunks("gitops.result", json.dumps(body)), STATE: state, OPEN: _flag(missing)})
        self.client.set_terminated(run_id, "FAILED" if failed else "FINISHED")

    def settle(
        self, entry: Entry, unrecorded: Iterable[Entity], interrupted: bool = False, outcomes: Mapping[int, str] = {}
    ) -> None:
        """Record that the open entry's missing audit records were written (those still missing stay).
        An interrupted entry gets the outcomes found at recovery."""
        missing = sorted(set(unrecorded), key=lambda e: (e[0], e[1] or 0))
        body = {
            "outcomes": {str(i): o for i, o in {**entry.outcomes, **outcomes}.items()},
            "errors": {str(i): e for i, e in entry.errors.items()},
            "unrecorded": [list(e) for e in missing],
        }
        state = INCOMPLETE if missing else (INTERRUPTED if interrupted else APPLIED)
        self._log(entry.run_id, {**_chunks("gitops.result", json.dumps(body)), STATE: state, OPEN: _flag(missing)})
        if interrupted:
            self.client.set_terminated(entry.run_id, "KILLED")

    def record_unlock(self, model: str, ticket: int, holder: str, actor: str, reason: str, forced: bool) -> str:
        """A run saying who cleared which lock ticket of whom, and why (`reconciler unlock`), written
        before the ticket is cleared. Not an apply's entry: `entry_from_run` skips it."""
        experiment = self.experiment_id(create=True)
        run = self.client.create_run(
            experiment, run_name=f"unlock ticket {ticket}", tags={STATE: UNLOCKED, KIND: UNLOCK}
        )
        record = {
            "lock_model": model,
            "ticket": ticket,
            "holder": holder,
            "cleared_by": actor,
            "reason": reason,
            "forced": forced,
            "cleared_at": now(),
        }
        self._log(run.info.run_id, _chunks("gitops.unlock", json.dumps(record)))
        self.client.set_terminated(run.info.run_id, "FINISHED")
        return str(run.info.run_id)

    def unlocks(self, limit: int = 100) -> list[dict[str, Any]]:
        """The records of `record_unlock`, newest first."""
        from mlflow.entities import ViewType

        experiment = self.experiment_id()
        if experiment is None:
            return []
        runs = self.client.search_runs(
            [experiment],
            filter_string=f"tags.`{KIND}` = '{UNLOCK}'",
            run_view_type=ViewType.ALL,
            max_results=limit,
            order_by=["attributes.start_time DESC"],
        )
        return [{"run": r.info.run_id, **_joined(r.data.tags, "gitops.unlock")} for r in runs]

    def _log(self, run_id: str, tags: Mapping[str, str]) -> None:
        from mlflow.entities import RunTag

        items = [RunTag(k, v) for k, v in tags.items()]
        for i in range(0, len(items), MAX_TAGS_PER_BATCH):
            self.client.log_batch(run_id, tags=items[i : i + MAX_TAGS_PER_BATCH])

    def open_entries(self) -> list[Entry]:
        """The entries an apply completes: it writes them, so a deleted journal is refused here."""
        return self._search(f"tags.`{OPEN}` = '1'", write=True)

    def recent(self, limit: int = 2000) -> list[Entry]:
        """The newest entries of every model, newest first (paged: 1,000 a call)."""
        return self._search("", limit)

    def history(self, model: str, limit: int = 50) -> list[Entry]:
        found = self._search(f"tags.`{model_tag(model)}` = '1'", limit)
        return [e for e in found if any(c.address.model == model for c in e.changes)]

    def _search(self, filter_string: str, limit: int = 1000, write: bool = False) -> list[Entry]:
        from mlflow.entities import ViewType

        experiment = self.experiment_id(write=write)
        if experiment is None:
            return []
        out: list[Entry] = []
        token = None
        while len(out) < limit:
            page = self.client.search_runs(
                [experiment],
                filter_string=filter_string,
                run_view_type=ViewType.ALL,
                max_results=min(1000, limit - len(out)),
                order_by=["attributes.start_time DESC"],
                page_token=token,
            )
            out += [e for e in map(entry_from_run, page) if e is not None]
            token = page.token
            if not token:
                break
        return out


def deleted_journal(experiment_id: str) -> RegistryError:
    """Not restored here: deleting the audit trail is someone's decision (an admin's, or a mistake
    only they can tell), and restoring it brings back every run they deleted with it; an apply
    that writes nothing until a person restores it keeps that decision theirs."""
    return RegistryError(
        f"the audit journal (the experiment {EXPERIMENT!r}, id {experiment_id}) is deleted, so apply cannot record "
        f"what it does; nothing was written. Restore it: mlflow experiments restore --experiment-id {experiment_id} "
        f"(or MlflowClient().restore_experiment({experiment_id!r})), as a user with MANAGE on it, then apply again"
    )


def _flag(missing: Sequence[Entity]) -> str:
    return "1" if missing else "0"


def entry_from_run(run: Any) -> Entry | None:
    """A journal run -> Entry; a run that is not a readable journal entry is skipped."""
    tags = run.data.tags
    try:
        audit = Audit.from_json(_joined(tags, "gitops.audit"))
        changes = tuple(change_from_json(c) for c in _joined(tags, "gitops.intent") or ())
        result = _joined(tags, "gitops.result") or {}
    except (ValueError, KeyError, TypeError):
        return None
    return Entry(
        run_id=run.info.run_id,
        audit=audit,
        registry=tags.get("gitops.registry", ""),
        state=tags.get(STATE, ""),
        changes=changes,
        outcomes={int(k): v for k, v in result.get("outcomes", {}).items()},
        errors={int(k): v for k, v in result.get("errors", {}).items()},
        unrecorded=tuple((m, v) for m, v in result.get("unrecorded", ())),
    )
