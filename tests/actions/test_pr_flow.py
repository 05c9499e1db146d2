"""The pull-request flow through the real workflows on a local SQLite registry (fast; the same flow
against a real `mlflow server` is tests/integration/test_governance_e2e.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.actions.harness import Harness, log, ran
from tests.github import events
from tests.github.expressions import Evaluator
from tests.github.fake import FakeGitHub

POLICY = """\
owners: [platform-lead]
changes: {approvals: 1, from: [model-owners]}
protected:
  aliases: [champion]
  approvals: 1
  from: [model-owners]
  gates:
    - {metric: accuracy, at_least: 0.9}
"""
CHURN = "name: churn\nowners: [olivia]\naliases: {{champion: {v}}}\n"


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[tuple[str, object]]:
    from mlflow import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment = client.create_experiment("training")
    client.create_registered_model("churn")
    for accuracy in (0.92, 0.95, 0.5):
        run = client.create_run(experiment)
        client.log_metric(run.info.run_id, "accuracy", accuracy)
        client.set_terminated(run.info.run_id)
        client.create_model_version("churn", f"s3://artifacts/{run.info.run_id}", run_id=run.info.run_id)
    client.set_registered_model_alias("churn", "champion", "1")
    yield uri, client


@pytest.fixture
def harness(fake_github: FakeGitHub, tmp_path: Path, expression_evaluator: Evaluator, registry) -> Harness:
    uri, _ = registry
    fake_github.commit("main", {"models/_policy.yaml": POLICY, "models/churn.yaml": CHURN.format(v=1)})
    return Harness(fake_github, tmp_path / "runs", expression_evaluator, secrets={"MLFLOW_TRACKING_URI": uri})


def _status(gh: FakeGitHub, sha: str) -> tuple[str, str]:
    latest = [s for s in gh.statuses_for(sha) if s.context == "registry/policy"][-1]
    return latest.state, latest.description or ""


def _plan_comment(gh: FakeGitHub, number: int) -> str:
    (found,) = [
        c.body for c in gh.comments_on(number) if c.user.login == "github-actions[bot]" and "reconciler-plan" in c.body
    ]
    return found


def test_plan_review_merge_apply(harness: Harness, fake_github: FakeGitHub, registry):
    _, client = registry
    fake_github.commit("promote", {"models/churn.yaml": CHURN.format(v=2)}, author="alice")
    pr = fake_github.open_pull_request("promote", author="alice")

    jobs = harness.run("registry-pr.yml", events.pull_request(fake_github, pr.number, "opened"))
    assert ran(jobs) == {"plan": "success", "review": "skipped", "fork": "skipped"}, log(jobs["plan"])
    body = _plan_comment(fake_github, pr.number)
    assert "alias&#91;champion&#93;" in body and "v1" in body and "v2" in body
    assert _status(fake_github, pr.head_sha)[0] == "failure"

    bob = fake_github.add_review(pr.number, "bob", "APPROVED")
    jobs = harness.run("registry-pr.yml", events.pull_request_review(fake_github, bob.id))
    assert ran(jobs) == {"plan": "skipped", "review": "success", "fork": "skipped"}, log(jobs["review"])
    assert _status(fake_github, pr.head_sha)[0] == "failure"

    olivia = fake_github.add_review(pr.number, "olivia", "APPROVED")
    jobs = harness.run("registry-pr.yml", events.pull_request_review(fake_github, olivia.id))
    assert _status(fake_github, pr.head_sha)[0] == "success", log(jobs["review"])

    before = fake_github.git.tip("main")
    assert before is not None
    fake_github.merge_pull_request(pr.number)
    jobs = harness.run("registry-apply.yml", events.push(fake_github, "main", before))
    assert ran(jobs) == {"apply": "success"}, log(jobs["apply"])
    model = client.get_registered_model("churn")  # type: ignore[attr-defined]
    assert model.aliases["champion"] == 2
    print(_plan_comment(fake_github, pr.number))
    print([c.body for c in fake_github.comments_on(pr.number)][-1])
    record = json.loads(model.tags["gitops.audit"])
    assert record["approved_by"] == ["olivia"] and record["pull_request"] == str(pr.number)
