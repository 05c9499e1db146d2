"""`reconciler github propose-rollback` against the OpenAPI-checked fake GitHub and a real mlflow
server: a breach opens ONE pull request that points the alias back at the previous holder (from the
journal of real applies), with comments kept and the evidence in its body; a second run updates it;
merging it and applying moves the alias back. No opt-in, or no previous holder: nothing opened."""

from __future__ import annotations

import html
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.github import events
from tests.github.fake import FakeGitHub
from tests.health import models
from tests.health.conftest import Registry
from tests.health.test_health import FILE, _apply, _cli, _log

pytestmark = pytest.mark.integration

PERMISSIONS = {"contents": "write", "pull-requests": "write"}


def _promote_and_degrade(registry: Registry, root: Path, name: str) -> datetime:
    base = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(hours=13)
    models.register_sklearn(name)
    models.register_sklearn(name)
    _apply(registry, root, name, 1)
    _log(name, 1, range(1, 7), base=base)
    _apply(registry, root, name, 2)
    _log(name, 2, range(7, 13), degrade=1.0, base=base)
    return base


def _propose(gh: FakeGitHub, step: Any, registry: Registry) -> Any:
    event = events.schedule(gh, "41 * * * *")
    return step.run(["github", "propose-rollback"], event, {"MLFLOW_TRACKING_URI": registry.uri}, PERMISSIONS)


def test_one_pull_request_updated_not_repeated_and_merging_it_rolls_back(
    registry: Registry, fake_github: FakeGitHub, step: Any, tmp_path: Path
) -> None:
    name = "rb-m"
    _promote_and_degrade(registry, tmp_path, name)
    fake_github.commit("main", {f"models/{name}.yaml": FILE.format(name=name, v=2)})

    ran = _propose(fake_github, step, registry)
    assert ran.code == 0, ran.err  # the breach handled: the health job fails on it
    assert "rb-m: opened #1" in ran.out and "breach=true" in ran.outputs and "pulls=1" in ran.outputs
    pr = fake_github.state.pulls[1]
    assert pr.title == "Roll back rb-m champion: v2 -> v1" and pr.base_ref == "main"
    proposed = fake_github.git.read(pr.head_sha, "models/rb-m.yaml")
    assert proposed == FILE.format(name=name, v=2).replace("champion: 2   # what serves", "champion: 1   # what serves")
    body = html.unescape(pr.body or "")
    assert "```mermaid\nxychart-beta" in body and "❌ breach" in body and "proposed: v1" in body
    assert "#7" in body and "a" * 40 in body  # the audit record of the promotion: pull request and commit

    fake_github.reset_calls()
    again = _propose(fake_github, step, registry)
    assert again.code == 0 and "rb-m: updated #1" in again.out
    counts = fake_github.call_counts()
    assert counts["pulls/update"] == 1 and counts["pulls/create"] == 0 and counts["git/create-ref"] == 0
    assert len([p for p in fake_github.state.pulls.values() if p.state == "open"]) == 1
    assert fake_github.state.pulls[1].head_sha == pr.head_sha  # the branch is not rewritten for the same proposal

    fake_github.merge_pull_request(1)
    merged = fake_github.git.read(fake_github.git.tip("main") or "", "models/rb-m.yaml")
    (tmp_path / "models" / "rb-m.yaml").write_text(merged or "")
    done = _cli(registry, tmp_path, "apply", "--yes")
    assert done.returncode == 0, done.stderr
    from mlflow import MlflowClient

    assert MlflowClient().get_registered_model(name).aliases["champion"] == "1"


def test_without_opt_in_or_a_previous_holder_nothing_is_opened(
    registry: Registry, fake_github: FakeGitHub, step: Any, tmp_path: Path
) -> None:
    name = "rb-no"
    base = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(hours=7)
    models.register_sklearn(name)
    _apply(registry, tmp_path, name, 1)  # the first champion: no previous holder
    _log(name, 1, range(1, 7), degrade=1.0, base=base)
    fake_github.commit("main", {f"models/{name}.yaml": FILE.format(name=name, v=1)})
    ran = _propose(fake_github, step, registry)
    assert ran.code == 0 and "rb-no: nothing to roll back to" in ran.out and "first holder" in ran.out
    fake_github.commit("main", {f"models/{name}.yaml": FILE.format(name=name, v=1).replace("  rollback: true\n", "")})
    ran = _propose(fake_github, step, registry)
    assert "rb-no: not opted in" in ran.out and "set monitoring.rollback: true" in ran.out
    assert not fake_github.state.pulls
