"""health.yml run as GitHub runs it (tests/github/runner.py) against the fake GitHub and a real
mlflow server: a breach fails `health` (contents: read only) after one alert to a local receiver;
`rollback` (contents and pull-requests: write) opens the pull request; the next hour's run sends no
second alert and updates the same pull request."""

from __future__ import annotations

import html
from pathlib import Path

import pytest

from tests.github import events
from tests.github.expressions import Evaluator
from tests.github.fake import FakeGitHub
from tests.github.harness import Harness, log, ran
from tests.health.conftest import Registry
from tests.health.receiver import receiver
from tests.health.test_health import FILE
from tests.health.test_rollback_pr import _promote_and_degrade

pytestmark = pytest.mark.integration


def _run(harness: Harness, event: events.Event) -> dict:
    """Each job on a fresh runner (its own workspace), as GitHub-hosted jobs run; `rollback` gets `health`'s result."""
    health = harness.runner("health.yml", event).run_job("health", {})
    return {"health": health, "rollback": harness.runner("health.yml", event).run_job("rollback", {"health": health})}


def test_breach_alerts_once_and_proposes_one_rollback(
    registry: Registry, fake_github: FakeGitHub, expression_evaluator: Evaluator, tmp_path: Path
) -> None:
    name = "wf-m"
    _promote_and_degrade(registry, tmp_path, name)
    fake_github.commit("main", {f"models/{name}.yaml": FILE.format(name=name, v=2)})
    with receiver() as hook:
        secrets = {"MLFLOW_TRACKING_URI": registry.uri, "RECONCILER_ALERT_WEBHOOK": hook.url}
        harness = Harness(fake_github, tmp_path / "runs", expression_evaluator, secrets=secrets)

        jobs = _run(harness, events.schedule(fake_github, "41 * * * *"))
        assert ran(jobs) == {"health": "failure", "rollback": "success"}, log(jobs["health"]) + log(jobs["rollback"])
        assert jobs["health"].permissions == {"contents": "read", "metadata": "read"}
        assert jobs["rollback"].permissions == {"contents": "write", "metadata": "read", "pull-requests": "write"}
        assert len(hook.bodies) == 1 and hook.bodies[0]["text"].startswith(":rotating_light: Breach: wf-m v2")
        (pr,) = fake_github.state.pulls.values()
        assert pr.title == "Roll back wf-m champion: v2 -> v1" and "xychart-beta" in html.unescape(pr.body or "")

        again = _run(harness, events.workflow_dispatch(fake_github, "health.yml"))
        assert ran(again) == {"health": "failure", "rollback": "success"}
        assert len(hook.bodies) == 1  # the same breach: no second alert
        assert len(fake_github.state.pulls) == 1 and "wf-m: updated #" in log(again["rollback"])
