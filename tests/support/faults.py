"""Fault trials: kill -9 the MLflow server or PostgreSQL at a random moment of an apply of 300+
changes, start it again, apply again, and check what the user was told and what the registry holds.

Per trial (bench/fault_trials.py runs 100; tests/integration/test_faults.py a few):
1. the models file asks for 300 new version descriptions, an alias move and a model tag;
2. `reconciler apply --yes --commit A<n>` runs as a process; at a random moment the victim dies;
3. the victim starts again; `reconciler apply --yes --commit B<n>` runs, then `plan --detailed-exitcode`.
Checked: the first apply exits 0 or 1 (never an internal error); the second converges and the plan
after it is empty; every change the first one reported as applied was not needed by the second, and
every change it reported as failed (refused) was; the bystander model and the fields no file
manages are untouched; every changed version and the model carry an audit record that names a
journal run which intended that change and whose commit is A<n> or B<n>, and a record naming A<n>
only where the second apply did not make that change itself.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.apply.audit import AUDIT_TAG
from reconciler.apply.journal import Journal

MODEL, BYSTANDER = "fault-m", "fault-bystander"
VERSIONS = 300  # the bench's; the suite's few trials use fewer (the same code paths, a fifth of the writes)
LOCK_TTL = "30"  # the shortest accepted (lock.MIN_TTL): the second apply waits less for the first one's ticket


@dataclass
class Outcome:
    trial: int
    victim: str
    at: int  # writes of the first apply after which the victim was to die
    first_exit: int
    killed_at: int | None = None  # writes seen when it died (None: the first apply had already ended)
    problems: list[str] = field(default_factory=list)
    reported: dict[str, int] = field(default_factory=dict)  # applied / failed / unconfirmed, as reported
    seconds: float = 0.0
    reruns: int = 0  # extra re-runs after the restart, each because one lost the lock (said so, wrote nothing more)


def populate(db_uri: str, versions: int = VERSIONS) -> None:
    """The versions through MLflow's SQL store (the REST API would take minutes), and a bystander."""
    from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore

    store = SqlAlchemyStore(db_uri)
    store.create_registered_model(MODEL, description="fault trials")
    for v in range(versions):
        store.create_model_version(MODEL, source=f"s3://mlflow/faults/{v}", run_id=None)
    from mlflow.entities.model_registry import ModelVersionTag

    store.set_model_version_tag(MODEL, "1", ModelVersionTag("unmanaged", "keep me"))
    store.create_registered_model(BYSTANDER, description="never in a file")
    store.create_model_version(BYSTANDER, source="s3://mlflow/faults/b", run_id=None)
    store.set_registered_model_alias(BYSTANDER, "champion", "1")


def desired(trial: int, rng: random.Random, count: int = VERSIONS) -> str:
    versions = "\n".join(f"  {v}: {{description: 'trial {trial} v{v}'}}" for v in range(1, count + 1))
    return (
        f"name: {MODEL}\ndescription: fault trials\ntags: {{trial: '{trial}'}}\n"
        f"aliases: {{champion: {rng.randint(1, count)}}}\nversions:\n{versions}\n"
    )


class Trials:
    def __init__(self, workdir: Path, server: Any, pg: Any, env: dict[str, str], versions: int = VERSIONS):
        self.workdir, self.server, self.pg, self.versions = workdir, server, pg, versions
        self._poll: Any = None
        self.env = {**env, "RECONCILER_LOCK_TTL": LOCK_TTL, "XDG_CACHE_HOME": str(workdir / "cache")}
        (workdir / "models").mkdir(exist_ok=True)

    def cli(self, *args: str, timeout: float = 600) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "reconciler", *args],
            cwd=self.workdir,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def progress(self, trial: int) -> int:
        """Writes of the first apply that reached the database: descriptions, then audit records."""
        import psycopg

        query = (
            "SELECT (SELECT count(*) FROM model_versions WHERE name = %s AND description LIKE %s)"
            " + (SELECT count(*) FROM model_version_tags WHERE name = %s AND key = %s AND value LIKE %s)"
        )
        params = (MODEL, f"trial {trial} v%", MODEL, AUDIT_TAG, f'%"commit":"A{trial}"%')
        for attempt in range(2):  # one connection for the polling (20 a second); a new one after PostgreSQL restarts
            try:
                if self._poll is None or self._poll.closed:
                    self._poll = psycopg.connect(self.pg.uri("mlflow"), autocommit=True)
                done = self._poll.execute(query, params).fetchone()
                return int(done[0]) if done else 0
            except psycopg.OperationalError:
                self._poll = None
                if attempt:
                    raise
        return 0

    def run(self, trial: int, victim: str, at: int, rng: random.Random) -> Outcome:
        """`at`: kill the victim once that many of the first apply's writes reached the database
        (0: before any; over `versions`: while it writes its audit records)."""
        started = time.perf_counter()
        (self.workdir / "models" / f"{MODEL}.yaml").write_text(desired(trial, rng, self.versions))
        before = self.snapshot()
        first = self.cli("apply", "--yes", "--commit", f"A{trial}", "--lock-timeout", "60")
        while first.poll() is None and self.progress(trial) < at:
            time.sleep(0.05)
        killed_at = self.progress(trial) if first.poll() is None else None
        (self.server if victim == "server" else self.pg).kill()
        out, err = first.communicate(timeout=600)
        if victim == "postgres":
            self.pg.start()
        self.server.kill()  # a server that lost its database may keep broken connections: start it afresh
        self.server.start()
        outcome = Outcome(trial, victim, at, first.returncode, killed_at=killed_at)
        for _ in range(3):  # a re-run that loses the lock (heartbeats starved on a loaded machine) stops safely
            second = self.cli("apply", "--yes", "--commit", f"B{trial}", "--lock-timeout", "60")
            _, err2 = second.communicate(timeout=600)
            if second.returncode == 0 or "lost the registry lock" not in err2:
                break
            outcome.reruns += 1  # and the next one converges: counted, and its report is the one checked
        plan = self.cli("plan", "--detailed-exitcode")
        plan.communicate(timeout=600)
        self.check(outcome, (out, err), (second.returncode, err2), plan.returncode, before)
        outcome.seconds = time.perf_counter() - started
        return outcome

    def client(self) -> Any:
        from mlflow import MlflowClient

        os.environ.update({k: v for k, v in self.env.items() if k.startswith("MLFLOW_TRACKING_")})
        return MlflowClient(tracking_uri=self.server.uri, registry_uri=self.server.uri)

    def snapshot(self) -> dict:
        c = self.client()
        bystander = c.get_registered_model(BYSTANDER)
        v1 = c.get_model_version(MODEL, "1")
        return {
            "bystander": (bystander.description, dict(bystander.aliases), dict(bystander.tags)),
            "unmanaged": v1.tags.get("unmanaged"),
        }

    def check(self, o: Outcome, first: tuple[str, str], second: tuple[int, str], plan_exit: int, before: dict) -> None:
        out, err = first
        if o.first_exit not in (0, 1):
            o.problems.append(f"first apply exited {o.first_exit}: {err[-500:]}")
        if second[0] != 0:
            o.problems.append(f"second apply exited {second[0]}: {second[1][-500:]}")
        if plan_exit != 0:
            o.problems.append(f"plan after the second apply exited {plan_exit} (not converged)")
        if self.snapshot() != before:
            o.problems.append("the bystander model or an unmanaged tag changed")
        self.check_journal(o, out, err)

    def check_journal(self, o: Outcome, out: str, err: str) -> None:
        c = self.client()
        entries = {e.run_id: e for e in Journal(c).history(MODEL, limit=20)}
        mine = {r: e for r, e in entries.items() if e.audit.commit in (f"A{o.trial}", f"B{o.trial}")}
        second = [e for e in mine.values() if e.audit.commit == f"B{o.trial}"]
        needed_later = {str(ch.address) for e in second for ch in e.changes}
        refused = _reported(err, "failed")
        unsure = _reported(err, "unconfirmed") | _reported(err, "skipped")
        o.reported = {"failed": len(refused), "unconfirmed": len(unsure)}
        if "Applied " in out:
            first = [e for e in mine.values() if e.audit.commit == f"A{o.trial}"]
            intended = {str(ch.address) for e in first for ch in e.changes}
            claimed = intended - refused - unsure
            o.reported["applied"] = len(claimed)
            if claimed & needed_later:
                o.problems.append(f"reported applied but needed again: {sorted(claimed & needed_later)[:3]}")
        if refused - needed_later:
            o.problems.append(f"reported failed but was applied: {sorted(refused - needed_later)[:3]}")
        self.check_records(o, c, mine, needed_later)

    def check_records(self, o: Outcome, c: Any, mine: dict, needed_later: set[str]) -> None:
        entities = [(None, c.get_registered_model(MODEL).tags)]
        entities += [(v.version, v.tags) for v in c.search_model_versions(f"name = '{MODEL}'", max_results=1000)]
        for version, tags in entities:
            record = json.loads(tags.get(AUDIT_TAG, "null") or "null")
            where = f"v{version}" if version else "model"
            entry = mine.get(record.get("run")) if isinstance(record, dict) else None
            if entry is None:
                o.problems.append(f"{where}: no audit record from this trial ({str(record)[:120]})")
                continue
            touched = [ch for ch in entry.changes if ch.address.version == (int(version) if version else None)]
            if not touched:
                o.problems.append(f"{where}: credited to run {entry.run_id}, which did not intend to change it")
            elif entry.audit.commit.startswith("A") and any(str(ch.address) in needed_later for ch in touched):
                o.problems.append(f"{where}: credited to the first apply, but the second one made the change")


def _reported(stderr: str, outcome: str) -> set[str]:
    """The addresses the CLI listed as `<outcome>: <address>: <reason>`."""
    out = set()
    for line in stderr.splitlines():
        if line.startswith(f"{outcome}: "):
            out.add(line[len(outcome) + 2 :].split(": ", 1)[0])
    return out
