"""One applier contending for the registry lock, in its own process, through MlflowClient.

Each contender is a separate process with its own client, connections and heartbeat thread,
forked from a fork server that has already imported MLflow (`multiprocessing`'s forkserver): a
fresh `python` would spend ~3 s of CPU importing it, per contender. It sends one event per step
over a pipe (times on reconciler.apply.lock.now()'s clock, which every process on this machine shares).
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import queue
import threading
import time
import traceback
from pathlib import Path
from typing import Any

PRELOAD = [  # what a contender imports: MLflow's client and its stores for every registry kind
    "mlflow",
    "mlflow.store.model_registry.rest_store",
    "mlflow.store.model_registry.sqlalchemy_store",
    "mlflow.store.model_registry.sqlalchemy_workspace_store",
    "mlflow.store.tracking.sqlalchemy_store",
    "mlflow.store.db.utils",
    "alembic.command",
    "alembic.config",
    "sqlalchemy.dialects.sqlite",
    "sqlalchemy.dialects.postgresql",
    "psycopg",
    "reconciler.apply.lock",
    "tests.support.lock_contender",
]
_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(PRELOAD)
_events: Any = None  # this process's end of the pipe to the test


def emit(event: str, **fields: Any) -> None:
    from reconciler.apply.lock import now

    _events.send({"event": event, "t": now(), **fields})


def _now() -> float:
    from reconciler.apply.lock import now

    return now()


def _lock(cfg: dict) -> Any:
    from mlflow import MlflowClient

    from reconciler.apply import lock as lock_module
    from reconciler.apply.lock import LockSettings, RegistryLock, default_owner

    # The scenarios run at a tenth of the real scale (ttl 6 s, not 60): the floor that tickets
    # claiming less are judged by (lock.MIN_TTL, 30 s) scales with them. Its own test: tests/unit/test_lock.py.
    lock_module.MIN_TTL = cfg.get("min_ttl", lock_module.MIN_TTL)
    client = MlflowClient(tracking_uri=cfg["uri"], registry_uri=cfg["uri"])
    client.search_registered_models(max_results=1)  # opens the store (seconds for SQLite) before the clock runs
    settings = LockSettings(cfg["ttl"], cfg["margin"], cfg.get("poll", 0.1), cfg.get("max_poll", 0.5))
    owner = default_owner(cfg["actor"], cfg.get("plan"), cfg.get("pull_request"), cfg.get("commit"))
    where = cfg.get("where", "the test registry")
    return client, RegistryLock(client, owner, settings, where=where, model=cfg["model"])


def _acquire(lock: Any, timeout: float) -> Any:
    """The lease; the caller enters it (`with`) before it says "acquired"."""
    from reconciler.apply.lock import waiting_message

    return lock.acquire(timeout, on_wait=lambda h: emit("waiting", holder=h.number, message=waiting_message(h)))


def _acquired(lock: Any, lease: Any, started: float) -> None:
    elapsed = time.monotonic() - started
    emit("acquired", ticket=lease.number, elapsed=elapsed, created_model=lock.created_model)


def cycle(cfg: dict) -> None:
    """Acquire `rounds` times; each time read-modify-write a counter tag under the lock."""
    client, lock = _lock(cfg)
    _barrier(cfg)
    for _ in range(cfg["rounds"]):
        started = time.monotonic()
        with _acquire(lock, cfg["timeout"]) as lease:
            _acquired(lock, lease, started)
            start = _now()
            n = int(client.get_registered_model(cfg["counter"]).tags.get("n", "0"))
            time.sleep(cfg.get("hold", 0.1))
            lease.ensure()
            client.set_registered_model_tag(cfg["counter"], "n", str(n + 1))
            emit("held", ticket=lease.number, start=start, end=_now())


def hold(cfg: dict) -> None:
    """Acquire, then check the lease every 50 ms (reporting heartbeats) until `hold_for` runs
    out, or until the lease was lost and `stop_file` exists."""
    _, lock = _lock(cfg)
    started = time.monotonic()
    with _acquire(lock, cfg.get("timeout", 30)) as lease:
        _acquired(lock, lease, started)
        _watch_lease(lease, cfg)
    emit("released", warning=lease.release_warning)


def _watch_lease(lease: Any, cfg: dict) -> None:
    from reconciler.apply.lock import LockLost

    last, lost = lease.last_heartbeat, False
    emit("heartbeat", start=last)
    deadline = time.monotonic() + cfg.get("hold_for", 120)
    while time.monotonic() < deadline:
        if lease.last_heartbeat != last:
            last = lease.last_heartbeat
            emit("heartbeat", start=last)
        try:
            lease.ensure()
        except LockLost as e:
            if not lost:
                lost = True
                emit("lost", message=str(e), last_heartbeat=last)
            if Path(cfg.get("stop_file", "/nonexistent")).exists():
                return
        else:
            if lost:
                emit("resurrected")  # must never happen: a lost lease stays lost
        time.sleep(0.05)


def write(cfg: dict) -> None:
    """Acquire, then write the tag `holder` of `counter` under the lease (checked before each write)
    right after each heartbeat, and whenever `write_every` seconds passed since the last write
    (after a SIGSTOP and SIGCONT, say), until `hold_for` runs out or the lease is lost."""
    from reconciler.apply.lock import LockLost

    client, lock = _lock(cfg)
    started = time.monotonic()
    with _acquire(lock, cfg.get("timeout", 30)) as lease:
        _acquired(lock, lease, started)
        last, wrote = None, -1e9
        deadline = time.monotonic() + cfg.get("hold_for", 120)
        while time.monotonic() < deadline:
            beat = lease.last_heartbeat
            if beat != last or time.monotonic() - wrote >= cfg.get("write_every", 1e9):
                if beat != last:
                    emit("heartbeat", start=beat)
                last = beat
                try:
                    lease.ensure()
                except LockLost as e:
                    emit("lost", message=str(e), last_heartbeat=beat)
                    break
                start = _now()
                client.set_registered_model_tag(cfg["counter"], "holder", cfg["actor"])
                wrote = time.monotonic()
                emit("wrote", start=start, end=_now())
            time.sleep(0.05)
    emit("released", warning=lease.release_warning)


def attempt(cfg: dict) -> None:
    """Try to acquire within `timeout`; hold for `hold` seconds if that worked."""
    from reconciler.errors import LockTimeout

    _, lock = _lock(cfg)
    _barrier(cfg)
    started = time.monotonic()
    try:
        lease = _acquire(lock, cfg["timeout"])
    except LockTimeout as e:
        emit("timeout", message=str(e), elapsed=time.monotonic() - started, calls=lock.calls)
        return
    with lease:
        _acquired(lock, lease, started)
        time.sleep(cfg.get("hold", 0.0))
    emit("released", warning=lease.release_warning)


def _barrier(cfg: dict) -> None:
    if "go_file" in cfg:
        emit("ready")
        deadline = time.monotonic() + 120  # an orphan (the test died) must not wait forever
        while not Path(cfg["go_file"]).exists():
            if time.monotonic() > deadline:
                raise SystemExit(2)
            time.sleep(0.01)


def _run(cfg: dict, env: dict[str, str], conn: Any) -> None:
    """The contender process."""
    global _events
    _events = conn
    for key in [k for k in os.environ if k.startswith("MLFLOW_")]:
        del os.environ[key]
    os.environ.update(env)
    try:
        {"cycle": cycle, "hold": hold, "try": attempt, "write": write}[cfg["mode"]](cfg)
    except KeyboardInterrupt:
        emit("interrupted")
        raise SystemExit(130) from None
    except Exception:
        emit("crashed", traceback=traceback.format_exc())
        raise SystemExit(1) from None


# The test side.


class Contender:
    """A running contender and its events, as they arrive. `env`: variables to set in it (after
    dropping every MLFLOW_* variable the test process has)."""

    def __init__(self, cfg: dict, env: dict[str, str]):
        mine, theirs = _context.Pipe(duplex=False)
        self.proc = _context.Process(target=_run, args=(cfg, env, theirs), daemon=True)
        self.proc.start()
        theirs.close()
        self.pid = self.proc.pid
        self.events: queue.Queue[dict | None] = queue.Queue()
        self.log: list[dict] = []
        self._reader = threading.Thread(target=self._read, args=(mine,), daemon=True)
        self._reader.start()

    def _read(self, conn: Any) -> None:
        while True:
            try:
                e = conn.recv()
            except (EOFError, OSError, pickle.UnpicklingError):  # exited, or killed half-way through a message
                break
            self.log.append(e)
            self.events.put(e)
        self.events.put(None)

    def signal(self, sig: int) -> None:
        os.kill(self.pid, sig)

    def kill(self) -> None:
        """At the end of a test: nothing it started outlives it."""
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(10)

    def expect(self, event: str, timeout: float = 60) -> dict:
        """The next event named `event` (the ones before it stay in `log`)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                e = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {event!r} event within {timeout} s; got {self.log}") from None
            if e is None:
                self.events.put(None)
                self.proc.join(10)
                raise AssertionError(f"exited ({self.proc.exitcode}) before {event!r}; got {self.log}")
            if e["event"] == event:
                return e

    def finish(self, timeout: float = 60) -> int | None:
        self.proc.join(timeout)
        self._reader.join(5)
        return self.proc.exitcode

    def of(self, event: str) -> list[dict]:
        return [e for e in self.log if e["event"] == event]

    def tail(self) -> str:
        """What went wrong, for assertion messages."""
        return "\n".join(e.get("traceback", "") for e in self.of("crashed")) or str(self.log[-5:])
