"""Two `reconciler apply --yes` at once on one model (the reported case: before the lock, both ran,
one crashed with a raw sqlite3.IntegrityError, descriptions came half from each side and audit
records named the other side's commit). Now the registry lock serializes them: the second waits,
then finds the registry changed under its plan and refuses, or plans after the first and applies.
Either way every version holds one side's descriptions, and its record names that side."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

VERSIONS = 60


def cli(root: Path, models: str, commit: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "RECONCILER_"))}
    env.update(MLFLOW_TRACKING_URI=f"sqlite:///{root / 'mlflow.db'}", XDG_CACHE_HOME=str(root / "cache"))
    return subprocess.Popen(
        [sys.executable, "-m", "reconciler", "apply", "--yes", "--commit", commit, "--models-dir", models],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def root(tmp_path: Path) -> Path:
    from mlflow import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.create_registered_model("churn")
    for _ in range(VERSIONS):
        client.create_model_version("churn", source=str(tmp_path / "artifacts"))
    for side in ("a", "b"):
        (tmp_path / side).mkdir()
        versions = "\n".join(f"  {v}: {{description: 'side {side} v{v}'}}" for v in range(1, VERSIONS + 1))
        (tmp_path / side / "churn.yaml").write_text(f"name: churn\nversions:\n{versions}\n")
    return tmp_path


def test_two_applies_at_once_never_interleave(root):
    first, second = cli(root, "a", "commit-a"), cli(root, "b", "commit-b")
    outcomes = [(p.wait(300), *p.communicate()) for p in (first, second)]
    codes = sorted(code for code, _, _ in outcomes)
    assert codes in ([0, 0], [0, 1]), outcomes
    for code, _, err in outcomes:
        if code == 1:  # the loser's plan was made before the winner wrote: refused, nothing written
            errors = [line for line in err.splitlines() if line.startswith("error: ")]
            assert len(errors) == 1 and "the registry changed since this plan was made" in errors[0], err
    from mlflow import MlflowClient

    uri = f"sqlite:///{root / 'mlflow.db'}"
    versions = MlflowClient(tracking_uri=uri, registry_uri=uri).search_model_versions("name = 'churn'")
    sides = {v.description.split()[1] for v in versions}
    assert len(sides) == 1, "descriptions from both sides"
    (side,) = sides
    for v in versions:
        record = json.loads(v.tags["gitops.audit"])
        assert record["commit"] == f"commit-{side}", (v.version, record["commit"])


def test_an_apply_told_not_to_wait_refuses_naming_the_holder(root):
    """Another applier holds the lock (here, this test process); --lock-timeout 0 refuses at once,
    names the holder, and writes nothing."""
    from mlflow import MlflowClient

    from reconciler.apply.lock import RegistryLock, default_owner

    uri = f"sqlite:///{root / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    lease = RegistryLock(client, default_owner("lead-on-call", pull_request="41", commit="c41")).acquire(10)
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "RECONCILER_"))}
        env.update(MLFLOW_TRACKING_URI=uri, XDG_CACHE_HOME=str(root / "cache"))
        refused = subprocess.run(
            [sys.executable, "-m", "reconciler", "apply", "--yes", "--lock-timeout", "0", "--models-dir", "b"],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        lease.release()
    assert refused.returncode == 1, refused.stderr
    message = refused.stderr.strip()
    assert len(message.splitlines()) == 1 and "lead-on-call" in message and "41" in message, message
    assert all(not v.description for v in client.search_model_versions("name = 'churn'"))
