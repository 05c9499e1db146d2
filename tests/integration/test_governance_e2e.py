"""Governance by pull request, end to end: training code registers versions in a real `mlflow server`
(PostgreSQL, S3, basic auth), and this repository's workflows run as GitHub runs them (the workflow
runner, GitHub's expression evaluator) against the fake GitHub API: the plan comment (golden
Markdown), the status, approvals that count and that do not, merge, apply with the approvers
recorded in the registry, a revert; a failing gate, drift between review and merge, two merges in
a row, a fork, a forged plan comment, and `reconciler history` over all of it.

Tests in this module run in order and share one registry and one GitHub repository: a scenario.
The plan jobs use the read-only `reader` user, the apply jobs the `reconciler` user (the two
GitHub environments of the workflows).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.github import events
from tests.github.expressions import Evaluator
from tests.github.fake import FakeGitHub
from tests.github.harness import Harness, log, ran
from tests.integration.conftest import REPO, Stack, grant, run_training

pytestmark = pytest.mark.integration

GOLDEN = Path(__file__).parent / "testdata" / "governance"
IRIS, DIABETES = "gov-iris", "gov-diabetes"
TRAIN = f"""
import json
from examples.train import train_diabetes, train_iris
for c in (1.0, 10.0, 0.001):
    t = train_iris(c=c, model_name="{IRIS}")
    print(json.dumps({{"version": t.version, "accuracy": t.metrics["accuracy"]}}))
t = train_diabetes(alpha=1.0, model_name="{DIABETES}")
print(json.dumps({{"version": t.version}}))
"""
POLICY = """\
# yaml-language-server: $schema=../schemas/policy.schema.json
owners: [platform-lead]
changes: {approvals: 1, from: [model-owners]}
protected:
  aliases: [champion]
  stages: [Production]
  approvals: 2
  from: [model-owners, "@acme/ml-leads"]
  gates:
    - {metric: accuracy, at_least: 0.9}
    - {metric: accuracy, no_worse_than_current_by: 0.05}
"""
IRIS_FILE = """\
# yaml-language-server: $schema=../schemas/model.schema.json
name: gov-iris
owners: [olivia]
description: {description}
aliases:
  champion: {champion}
versions:
  1: {{stage: {v1}}}
  2: {{stage: {v2}}}
"""


def iris(champion: int = 1, v1: str = "Production", v2: str = "None", description: str = "Iris, governed") -> str:
    return IRIS_FILE.format(champion=champion, v1=v1, v2=v2, description=description)


def normalize(body: str) -> str:
    """What varies from run to run (commits, hashes, run ids, the smoke test's latency) replaced by placeholders."""
    body = re.sub(r"<!-- reconciler-data: [A-Za-z0-9_=-]+ -->", "<!-- reconciler-data: DATA -->", body)
    body = re.sub(r"sha256(:|&#58;)[0-9a-f]{12,64}", r"sha256\1HASH", body)
    body = re.sub(r"\b[0-9a-f]{40}\b", "SHA", body)
    body = re.sub(r"\b[0-9a-f]{12}\b", "SHORT", body)
    body = re.sub(r"\| \d+\.\d ms \|", "| LATENCY |", body)
    return re.sub(r"/actions/runs/\d+", "/actions/runs/RUN", body)


def golden(name: str, body: str) -> None:
    path = GOLDEN / name
    text = normalize(body)
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert text == path.read_text(), (
        f"{name} differs from the golden file (UPDATE_GOLDEN=1 rewrites it; review the diff)"
    )


@dataclass
class Flow:
    gh: FakeGitHub
    stack: Stack
    root: Path
    evaluator: Evaluator
    members_token: str
    merges: dict[int, str] = field(default_factory=dict)
    harnesses: dict[str, Harness] = field(default_factory=dict)

    def harness(self, user: str) -> Harness:
        """`reader` for the pull-request workflow (registry-read), `reconciler` for apply (registry-write)."""
        if user not in self.harnesses:
            env = self.stack.env(user)
            keys = ("MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD")
            secrets = {k: env[k] for k in keys}
            secrets.update(RECONCILER_PLAN_KEY="e2e-plan-key", RECONCILER_MEMBERS_TOKEN=self.members_token)
            self.harnesses[user] = Harness(self.gh, self.root / f"runs-{user}", self.evaluator, secrets=secrets)
        return self.harnesses[user]

    def check(self, number: int, action: str = "synchronize") -> dict[str, Any]:
        jobs = self.harness("reader").run("registry-pr.yml", events.pull_request(self.gh, number, action))
        assert jobs["plan"].result == "success", log(jobs["plan"])
        return jobs

    def review(self, number: int, login: str, state: str = "APPROVED") -> dict[str, Any]:
        review = self.gh.add_review(number, login, state)
        jobs = self.harness("reader").run("registry-pr.yml", events.pull_request_review(self.gh, review.id))
        assert jobs["review"].result == "success", log(jobs["review"])
        return jobs

    def merge(self, number: int) -> str:
        before = self.gh.git.tip("main")
        assert before is not None
        self.gh.merge_pull_request(number)
        self.merges[number] = before
        return self.gh.git.tip("main") or ""

    def apply(self, number: int, after: str | None = None) -> Any:
        before = self.merges[number]
        event = events.push(self.gh, "main", before)
        if after is not None:  # a push event of an earlier merge, run after later ones (a queue)
            event = _push_of(self.gh, before, after)
        return self.harness("reconciler").run("registry-apply.yml", event)["apply"]

    def status(self, number: int) -> tuple[str, str]:
        sha = self.gh.state.pulls[number].head_sha
        latest = [s for s in self.gh.statuses_for(sha) if s.context == "registry/policy"][-1]
        return latest.state, latest.description or ""

    def plan_comment(self, number: int) -> str:
        (body,) = [c.body for c in self.gh.comments_on(number) if _is_plan(c)]
        return body

    def last_comment(self, number: int) -> str:
        return self.gh.comments_on(number)[-1].body


def _is_plan(c: Any) -> bool:
    return c.user.login == "github-actions[bot]" and c.body.startswith("<!-- reconciler-plan -->")


def _push_of(gh: FakeGitHub, before: str, after: str) -> events.Event:
    """The push event of `after` as GitHub sent it when `after` was the tip (main moved on since)."""
    tip = gh.git.tip("main")
    gh.git.set_ref("refs/heads/main", after)
    try:
        return events.push(gh, "main", before)
    finally:
        assert tip is not None
        gh.git.set_ref("refs/heads/main", tip)


def registry(stack: Stack) -> Any:
    from mlflow import MlflowClient

    os.environ.update(MLFLOW_TRACKING_USERNAME="admin", MLFLOW_TRACKING_PASSWORD=stack.server.admin_password)
    return MlflowClient(tracking_uri=stack.server.uri, registry_uri=stack.server.uri)


def audit(entity: Any) -> dict[str, Any]:
    return json.loads(entity.tags["gitops.audit"])


@pytest.fixture(scope="module")
def flow(
    live_stack: Stack, tmp_path_factory: pytest.TempPathFactory, github_contract, expression_evaluator
) -> Iterator[Flow]:
    root = tmp_path_factory.mktemp("governance")
    out = run_training(live_stack, TRAIN, root)
    trained = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert [t["version"] for t in trained] == [1, 2, 3, 1]
    for model in (IRIS, DIABETES):
        grant(live_stack, model)  # the reconciler's service user may manage these models
    c = registry(live_stack)
    c.update_registered_model(IRIS, description="Iris, governed")  # the state before adopting GitOps
    c.set_registered_model_alias(IRIS, "champion", "1")
    c.transition_model_version_stage(IRIS, "1", "Production")
    gh = FakeGitHub(root / "github")
    try:
        gh.add_team_member("acme", "ml-leads", "lena")
        members = gh.add_token("registry-governance[bot]", {"members": "read"})
        gh.commit(
            "main", {"models/_policy.yaml": POLICY, f"models/{IRIS}.yaml": iris()}, "Adopt GitOps", "platform-lead"
        )
        yield Flow(gh, live_stack, root, expression_evaluator, members)
    finally:
        gh.close()
    gh.assert_clean()


def test_the_promotion_is_planned_and_blocked_until_the_owners_approve(flow: Flow):
    flow.gh.commit("promote", {f"models/{IRIS}.yaml": iris(2, "Archived", "Production")}, "Promote v2", "alice")
    number = flow.gh.open_pull_request("promote", author="alice", title="Promote gov-iris v2").number
    jobs = flow.check(number, "opened")
    golden("pr-opened.md", flow.plan_comment(number))
    assert flow.status(number)[0] == "failure"
    assert jobs["plan"].step("check").outputs["state"] == "failure"
    assert "### Model registry plan" in jobs["plan"].summary

    forged = flow.plan_comment(number).replace("Not ready to merge", "Ready to merge")
    flow.gh.add_comment(number, "mallory", forged)  # someone else's comment with the marker: ignored

    flow.review(number, "bob")  # not an owner
    assert flow.status(number)[0] == "failure"
    assert "bob</code> (not an approver of this" in flow.plan_comment(number)
    flow.review(number, "olivia")  # the owner: the changes tier is met, the protected tier needs one more
    assert flow.status(number)[0] == "failure"
    flow.review(number, "lena")  # a member of @acme/ml-leads
    assert flow.status(number)[0] == "success" and flow.status(number)[1].startswith("Approved")
    golden("pr-approved.md", flow.plan_comment(number))
    assert len([c for c in flow.gh.comments_on(number) if _is_plan(c)]) == 1


def test_the_merge_applies_the_reviewed_plan_and_records_the_approvers(flow: Flow):
    sha = flow.merge(1)
    job = flow.apply(1)
    assert job.result == "success", log(job)
    c = registry(flow.stack)
    model, v1, v2 = c.get_registered_model(IRIS), c.get_model_version(IRIS, "1"), c.get_model_version(IRIS, "2")
    assert model.aliases["champion"] == "2" and (v1.current_stage, v2.current_stage) == ("Archived", "Production")
    record = audit(v2)
    assert (record["approved_by"], record["pull_request"], record["commit"]) == (["lena", "olivia"], "1", sha)
    assert record["applied_by"].startswith("octocat via https://github.com/acme/registry/actions/runs/")
    assert audit(model)["approved_by"] == ["lena", "olivia"]
    assert audit(v1)["plan"] == record["plan"] == job.step("apply").outputs["plan-hash"]
    journal = c.get_experiment_by_name("gitops.audit")
    (run,) = c.search_runs([journal.experiment_id], filter_string=f"tags.`gitops.plan` = '{record['plan']}'")
    assert run.data.tags["gitops.state"] == "applied"
    golden("pr-applied.md", flow.last_comment(1))


def test_a_failing_gate_blocks_whatever_the_approvals(flow: Flow):
    flow.gh.commit("worse", {f"models/{IRIS}.yaml": iris(3, "Archived", "Production")}, "Try v3", "alice")
    number = flow.gh.open_pull_request("worse", author="alice").number
    for who in ("olivia", "lena"):
        flow.gh.add_review(number, who, "APPROVED")
    flow.check(number, "opened")
    state, description = flow.status(number)
    assert state == "failure" and re.match(r"\d gates failed: gov-iris v3 accuracy", description), description
    body = flow.plan_comment(number)
    golden("pr-gate-failed.md", body)
    assert "metric gates failed" in body and "<code>0&#46;7111111111111111</code>" in body
    flow.gh.close_pull_request(number)


def test_drift_between_review_and_merge_is_refused_and_nothing_is_written(flow: Flow):
    flow.gh.commit(
        "describe", {f"models/{IRIS}.yaml": iris(2, "Archived", "Production", "Iris v2")}, "Describe", "alice"
    )
    number = flow.gh.open_pull_request("describe", author="alice").number
    flow.gh.add_review(number, "olivia", "APPROVED")
    flow.check(number, "opened")
    assert flow.status(number)[0] == "success"
    c = registry(flow.stack)
    c.update_registered_model(IRIS, description="edited in the UI")  # between review and merge
    before = audit(c.get_registered_model(IRIS))

    flow.merge(number)
    job = flow.apply(number)

    assert job.result == "failure" and "differs from the plan last shown" in job.steps[-1].stderr
    model = c.get_registered_model(IRIS)
    assert model.description == "edited in the UI" and audit(model) == before
    refusal = flow.last_comment(number)
    assert "Nothing was written to the registry" in refusal and "In the plan now, not in the plan reviewed" in refusal
    golden("merge-refused.md", refusal)


def test_two_merges_in_a_row_apply_in_order(flow: Flow):
    """The follow-up to the refusal (re-state the file so today's plan is reviewed), and a new model
    file: both checked and approved, both merged, then their apply runs one after the other."""
    restate = iris(2, "Archived", "Production", "Iris v2") + "# re-stated after the refused merge\n"
    flow.gh.commit("restate", {f"models/{IRIS}.yaml": restate}, "Re-state", "alice")
    first = flow.gh.open_pull_request("restate", author="alice").number
    flow.gh.commit(
        "diabetes", {f"models/{DIABETES}.yaml": f"name: {DIABETES}\nowners: [dan]\ntags: {{team: health}}\n"}
    )
    second = flow.gh.open_pull_request("diabetes", author="dan").number
    flow.gh.add_review(first, "olivia", "APPROVED")
    flow.gh.add_review(second, "dan-reviewer", "APPROVED")
    flow.check(first, "opened")
    flow.check(second, "opened")
    assert flow.status(first)[0] == "success"
    assert flow.status(second)[0] == "failure" and "platform-lead" in flow.status(second)[1]  # a new model file
    flow.review(second, "platform-lead")
    assert flow.status(second)[0] == "success"

    first_sha, second_sha = flow.merge(first), flow.merge(second)
    one, two = flow.apply(first, after=first_sha), flow.apply(second, after=second_sha)

    assert (one.result, two.result) == ("success", "success"), log(one) + log(two)
    c = registry(flow.stack)
    assert c.get_registered_model(IRIS).description == "Iris v2"
    diabetes = c.get_registered_model(DIABETES)
    assert diabetes.tags["team"] == "health" and audit(diabetes)["approved_by"] == ["platform-lead"]
    assert audit(diabetes)["commit"] == second_sha


def test_a_fork_gets_validation_only(flow: Flow):
    fork = flow.gh.fork("mallory")
    flow.gh.commit("fork-promote", {f"models/{IRIS}.yaml": iris(3, "Archived", "Production")}, author="mallory")
    number = flow.gh.open_pull_request("fork-promote", author="mallory", fork=fork).number
    jobs = flow.harness("reader").run("registry-pr.yml", events.pull_request(flow.gh, number, "opened"))
    assert ran(jobs) == {"plan": "skipped", "review": "skipped", "fork": "success"}, log(jobs["fork"])
    assert jobs["fork"].secrets_withheld and flow.gh.comments_on(number) == []
    flow.gh.close_pull_request(number)


def test_a_revert_rolls_back_and_reads_naturally(flow: Flow):
    flow.gh.commit("revert", {f"models/{IRIS}.yaml": iris(1, "Production", "Archived", "Iris v2")}, "Revert", "alice")
    number = flow.gh.open_pull_request("revert", author="alice", title="Roll back gov-iris to v1").number
    for who in ("olivia", "lena"):
        flow.gh.add_review(number, who, "APPROVED")
    flow.check(number, "opened")
    golden("revert-approved.md", flow.plan_comment(number))
    assert flow.status(number)[0] == "success", flow.status(number)
    flow.merge(number)
    assert flow.apply(number).result == "success"
    c = registry(flow.stack)
    assert c.get_registered_model(IRIS).aliases["champion"] == "1"
    assert (c.get_model_version(IRIS, "1").current_stage, c.get_model_version(IRIS, "2").current_stage) == (
        "Production",
        "Archived",
    )
    assert audit(c.get_model_version(IRIS, "1"))["approved_by"] == ["lena", "olivia"]


def test_history_joins_the_journal_with_git_log(flow: Flow):
    clone = flow.root / "clone"
    subprocess.run(["git", "clone", "--quiet", f"file://{flow.gh.git.path}", str(clone)], check=True)
    env = flow.stack.env("reader")
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "history", IRIS, "--format", "json"],
        cwd=clone,
        env={**env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    lines = json.loads(done.stdout)
    kinds = [(line["kind"], line["pull_request"]) for line in lines]
    assert kinds == [("applied", "7"), ("applied", "4"), ("not applied", None), ("applied", "1"), ("not applied", None)]
    revert, refused, adopted = lines[0], lines[2], lines[4]
    assert revert["approved_by"] == ["lena", "olivia"] and "Merge pull request #7" in revert["subject"]
    assert "Merge pull request #3" in refused["subject"] and adopted["subject"] == "Adopt GitOps"
    assert any("alias[champion]" in change for change in revert["changes"])
