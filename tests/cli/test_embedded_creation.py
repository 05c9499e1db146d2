"""Two processes opening a new embedded SQLite registry at once (hostile9 #9: two first applies,
one failed "duplicate column name: step ... check that the database is up"): the second waits
for the first's schema creation, and both go on. A database that is really broken still says so."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.errors import RegistryError
from reconciler.registry.clients import mlflow_client
from reconciler.registry.target import Target

ROOT = Path(__file__).resolve().parents[2]

# Imports first, then opens the registry when told: both open it at the same moment.
OPEN = """
import sys
from reconciler.errors import RegistryError
from reconciler.registry.clients import mlflow_client
from reconciler.registry.target import resolve_target
import mlflow.store.tracking.sqlalchemy_store, mlflow.store.model_registry.sqlalchemy_store
print("ready", flush=True)
sys.stdin.readline()
try:
    client = mlflow_client(resolve_target())
    client.create_registered_model(sys.argv[1])
except RegistryError as e:
    print(f"error: {e}", flush=True)
    sys.exit(1)
"""


def test_two_first_opens_of_the_embedded_registry_both_succeed(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "RECONCILER_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN, name],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    for p in procs:
        assert p.stdout is not None and p.stdout.readline() == "ready\n"
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.close()
    outcomes = [(p.wait(timeout=240), p.stdout.read() if p.stdout else "") for p in procs]
    assert outcomes == [(0, ""), (0, "")], outcomes
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = mlflow_client(Target(uri, uri, embedded=True))
    assert sorted(m.name for m in client.search_registered_models()) == ["a", "b"]


def test_a_file_that_is_no_database_is_reported_as_before(tmp_path: Path):
    db = tmp_path / "mlflow.db"
    db.write_bytes(b"not a database, " * 256)
    uri = f"sqlite:///{db}"
    with pytest.raises(RegistryError) as e:
        mlflow_client(Target(uri, uri, embedded=True))
    assert str(e.value) == (
        f"cannot use the registry {uri} (embedded default): file is not a database; "
        "check MLFLOW_TRACKING_URI and that the database is up"
    )
