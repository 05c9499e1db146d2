"""This repository's workflows, run as GitHub runs them (tests/github/runner.py: `run:` steps in bash,
`${{ }}` and `if:` by GitHub's evaluator, the job's token minted from its `permissions:`, no secrets
for forks) against the fake GitHub API and a local SQLite registry. The same flow against a real
`mlflow server` is tests/integration/test_governance_e2e.py."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tests.github import events
from tests.github.conftest import Registry
from tests.github.expressions import Evaluator
from tests.github.fake import FakeGitHub
from tests.github.harness import REPO, WORKFLOWS, Harness, log, ran

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
# The versions here have no model files: smoke tests opted out (tests/health/ runs them on real models).
CHURN = "name: churn\nowners: [olivia]\naliases: {{champion: {v}}}\nsmoke: {{enabled: false}}\n"
SHA_PIN = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")


@pytest.fixture
def harness(fake_github: FakeGitHub, tmp_path: Path, expression_evaluator: Evaluator, registry: Registry) -> Harness:
    registry.model("churn", [0.92, 0.95, 0.5])
    registry.client.set_registered_model_alias("churn", "champion", "1")
    fake_github.commit("main", {"models/_policy.yaml": POLICY, "models/churn.yaml": CHURN.format(v=1)})
    secrets = {"MLFLOW_TRACKING_URI": registry.uri, "RECONCILER_PLAN_KEY": "plan-key-for-tests"}
    return Harness(fake_github, tmp_path / "runs", expression_evaluator, secrets=secrets)


def _status(gh: FakeGitHub, sha: str) -> tuple[str, str]:
    latest = [s for s in gh.statuses_for(sha) if s.context == "registry/policy"][-1]
    return latest.state, latest.description or ""


def _bot_comments(gh: FakeGitHub, number: int) -> list[str]:
    return [c.body for c in gh.comments_on(number) if c.user.login == "github-actions[bot]"]


def test_plan_review_dismiss_approve_merge_apply(harness: Harness, fake_github: FakeGitHub, registry: Registry):
    fake_github.commit("promote", {"models/churn.yaml": CHURN.format(v=2)}, author="alice")
    pr = fake_github.open_pull_request("promote", author="alice")

    jobs = harness.run("registry-pr.yml", events.pull_request(fake_github, pr.number, "opened"))
    assert ran(jobs) == {"plan": "success", "review": "skipped", "fork": "skipped"}, log(jobs["plan"])
    assert jobs["plan"].permissions == {
        "contents": "read",
        "pull-requests": "write",
        "statuses": "write",
        "metadata": "read",
    }
    assert "Model registry plan" in jobs["plan"].summary and "state=failure" not in jobs["plan"].summary
    assert jobs["plan"].step("check").outputs["state"] == "failure"
    assert _status(fake_github, pr.head_sha)[0] == "failure"

    olivia = fake_github.add_review(pr.number, "olivia", "APPROVED")
    jobs = harness.run("registry-pr.yml", events.pull_request_review(fake_github, olivia.id))
    assert ran(jobs) == {"plan": "skipped", "review": "success", "fork": "skipped"}, log(jobs["review"])
    assert _status(fake_github, pr.head_sha)[0] == "success"

    fake_github.dismiss_review(olivia.id)
    jobs = harness.run("registry-pr.yml", events.pull_request_review(fake_github, olivia.id, "dismissed"))
    states = [s.state for s in fake_github.statuses_for(pr.head_sha)]
    assert states[-2:] == ["pending", "failure"], log(jobs["review"])  # pending first: never a stale success

    again = fake_github.add_review(pr.number, "olivia", "APPROVED")
    harness.run("registry-pr.yml", events.pull_request_review(fake_github, again.id))
    assert _status(fake_github, pr.head_sha)[0] == "success"
    assert len([b for b in _bot_comments(fake_github, pr.number) if b.startswith("<!-- reconciler-plan -->")]) == 1

    before = fake_github.git.tip("main")
    assert before is not None
    fake_github.merge_pull_request(pr.number)
    runner = harness.runner("registry-apply.yml", events.push(fake_github, "main", before))
    assert runner.concurrency() == {"group": "registry-apply", "cancel-in-progress": False}
    jobs = runner.run_workflow()
    assert ran(jobs) == {"apply": "success"}, log(jobs["apply"])
    assert jobs["apply"].permissions == {"contents": "read", "pull-requests": "write", "metadata": "read"}
    model = registry.client.get_registered_model("churn")
    assert model.aliases["champion"] == 2
    record = json.loads(model.tags["gitops.audit"])
    assert (record["approved_by"], record["pull_request"]) == (["olivia"], str(pr.number))
    assert record["commit"] == fake_github.git.tip("main")
    assert _bot_comments(fake_github, pr.number)[-1].startswith("<!-- reconciler-apply -->\n\n### Applied")


def test_a_fork_pull_request_gets_offline_validation_only(harness: Harness, fake_github: FakeGitHub):
    fork = fake_github.fork("mallory")
    fake_github.commit("evil", {"models/churn.yaml": CHURN.format(v=2)}, author="mallory")
    pr = fake_github.open_pull_request("evil", author="mallory", fork=fork)

    jobs = harness.run("registry-pr.yml", events.pull_request(fake_github, pr.number, "opened"))

    assert ran(jobs) == {"plan": "skipped", "review": "skipped", "fork": "success"}, log(jobs["fork"])
    fork_job = jobs["fork"]
    assert fork_job.secrets_withheld and fork_job.permissions == {"contents": "read", "metadata": "read"}
    assert (
        "1 model file(s) in models are valid (schema and semantics)"
        in fork_job.step("Validate offline (no registry, no secrets)").stdout
    )
    assert fake_github.comments_on(pr.number) == [] and fake_github.statuses_for(pr.head_sha) == []


def test_a_fork_pull_request_with_a_broken_file_fails_its_validation(harness: Harness, fake_github: FakeGitHub):
    fork = fake_github.fork("mallory")
    fake_github.commit("evil", {"models/churn.yaml": "name: churn\naliases: [1]\n"}, author="mallory")
    pr = fake_github.open_pull_request("evil", author="mallory", fork=fork)

    jobs = harness.run("registry-pr.yml", events.pull_request(fake_github, pr.number, "opened"))

    assert jobs["fork"].result == "failure"
    assert "models/churn.yaml:2" in jobs["fork"].steps[-1].stderr


def test_drift_opens_then_closes_one_issue(harness: Harness, fake_github: FakeGitHub, registry: Registry):
    registry.client.set_registered_model_alias("churn", "champion", "3")  # someone moved it by hand

    drifted = harness.run("drift.yml", events.schedule(fake_github, "17 * * * *"))
    assert ran(drifted) == {"drift": "success"}, log(drifted["drift"])
    assert drifted["drift"].step("drift").outputs == {"drift": "true", "issue": "1", "action": "opened"}
    assert "## Registry drift" in drifted["drift"].summary
    (issue,) = fake_github.issues("registry-drift")
    assert issue.state == "open" and "<code>v3</code>" in (issue.body or "")

    registry.client.set_registered_model_alias("churn", "champion", "1")
    matched = harness.run("drift.yml", events.workflow_dispatch(fake_github, "drift.yml"))
    assert matched["drift"].step("drift").outputs["action"] == "closed"
    assert fake_github.issues("registry-drift")[0].state == "closed"


def test_drift_without_registry_secrets_fails_with_what_to_set(harness: Harness, fake_github: FakeGitHub):
    harness.secrets.clear()
    jobs = harness.run("drift.yml", events.schedule(fake_github, "17 * * * *"))
    assert jobs["drift"].result == "failure"
    assert "MLFLOW_TRACKING_URI is not set" in jobs["drift"].steps[-1].stdout


def test_infra_previews_pull_requests_and_brings_merges_up(harness: Harness, fake_github: FakeGitHub):
    harness.secrets["PULUMI_ACCESS_TOKEN"] = "pul-test-token"
    fake_github.commit("infra", {"infra/README": "x\n"}, author="alice")
    pr = fake_github.open_pull_request("infra", author="alice")

    preview = harness.run("infra.yml", events.pull_request(fake_github, pr.number, "opened"))
    before = fake_github.git.tip("main")
    assert before is not None
    fake_github.merge_pull_request(pr.number)
    up = harness.run("infra.yml", events.push(fake_github, "main", before))

    assert ran(preview) == {"preview": "success", "up": "skipped"} and ran(up) == {
        "preview": "skipped",
        "up": "success",
    }
    commands = [
        (c.inputs["command"], c.inputs["stack-name"], c.env["PULUMI_ACCESS_TOKEN"]) for c in harness.pulumi.calls
    ]
    assert commands == [("preview", "prod", "pul-test-token"), ("up", "prod", "pul-test-token")]
    assert harness.pulumi.calls[0].inputs["comment-on-pr"] == "true"


def test_infra_comes_up_after_the_registry_apply_of_a_model_change(harness: Harness, fake_github: FakeGitHub):
    """A merge of models/** (a serving: pin) is brought up by the registry apply's workflow_run, on the
    commit that apply applied, with the serving reader's credentials; a failed apply brings nothing up."""
    harness.secrets.update(PULUMI_ACCESS_TOKEN="pul-test-token", SERVING_READER_PASSWORD="reader-pw")
    harness.vars["SERVING_READER_USERNAME"] = "serving-reader"
    fake_github.commit("main", {"models/iris.yaml": "name: iris\n"}, author="alice")
    applied = fake_github.git.tip("main")
    assert applied is not None
    fake_github.commit("main", {"README.md": "later\n"}, author="bob")  # main moved on meanwhile

    failed = harness.run(
        "infra.yml", events.workflow_run(fake_github, "registry-apply.yml", "registry apply", applied, "failure")
    )
    assert ran(failed) == {"preview": "skipped", "up": "skipped"} and not harness.pulumi.calls
    done = harness.run(
        "infra.yml", events.workflow_run(fake_github, "registry-apply.yml", "registry apply", applied, "success")
    )
    assert ran(done) == {"preview": "skipped", "up": "success"}
    (call,) = harness.pulumi.calls
    assert call.inputs["command"] == "up" and call.env["MLFLOW_TRACKING_USERNAME"] == "serving-reader"
    assert call.env["MLFLOW_TRACKING_PASSWORD"] == "reader-pw"
    assert done["up"].steps[0].outputs["commit"] == applied  # not main's newer tip
    docs = _workflows()
    assert docs["infra.yml"]["on"]["workflow_run"] == {
        "workflows": [docs["registry-apply.yml"]["name"]],
        "types": ["completed"],
        "branches": ["main"],
    }
    assert "models/**" not in docs["infra.yml"]["on"]["push"]["paths"]  # never before the apply


def _workflows() -> dict[str, dict]:
    return {p.name: YAML(typ="safe").load(p.read_text()) for p in sorted(WORKFLOWS.glob("*.yml"))}


def test_every_workflow_is_least_privilege_pinned_and_bash():
    docs = _workflows()
    assert {"ci.yml", "drift.yml", "infra.yml", "registry-apply.yml", "registry-pr.yml"} <= set(docs)
    for name, doc in docs.items():
        assert doc["permissions"] == {}, name
        assert doc["defaults"] == {"run": {"shell": "bash"}}, name
        for job_id, job in doc["jobs"].items():
            assert "permissions" in job and "write-all" not in str(job["permissions"]), (name, job_id)
            for step in job["steps"]:
                uses = step.get("uses")
                assert uses is None or uses == "./" or SHA_PIN.match(uses), (name, job_id, uses)
    action = YAML(typ="safe").load((REPO / "action.yml").read_text())
    assert all(SHA_PIN.match(s["uses"]) for s in action["runs"]["steps"] if "uses" in s)
    assert "pull_request_target" not in json.dumps(docs)


def test_the_registry_workflows_serialize_and_never_cancel():
    docs = _workflows()
    for name in ("registry-pr.yml", "registry-apply.yml"):
        concurrency = docs[name]["concurrency"]
        assert concurrency["cancel-in-progress"] is False and concurrency["queue"] == "max", name
    assert docs["registry-apply.yml"]["jobs"]["apply"]["environment"] == "registry-write"
    assert docs["registry-pr.yml"]["jobs"]["plan"]["environment"] == "registry-read"
    assert "environment" not in docs["registry-pr.yml"]["jobs"]["fork"]
    # CI runs the README's test command, as root like .ci/run (tests/support/sandbox.py needs namespaces)
    assert docs["ci.yml"]["jobs"]["test"]["steps"][-1]["run"] == "sudo --preserve-env=PATH,HOME make test"
    assert docs["infra.yml"]["on"]["pull_request"]["paths"] == ["infra/**", "Pulumi.*", "models/**"]
