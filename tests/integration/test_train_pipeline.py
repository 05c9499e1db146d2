"""Training enters through the pull request, end to end with a real `mlflow server` (PostgreSQL, S3,
basic auth) and this repository's workflows run as GitHub runs them against the fake GitHub:

train.yml as the training user (EDIT on the model, granted by the model file; never MANAGE) validates
the data, trains, passes the gates, registers with lineage and opens the proposal; registry-pr.yml
plans it; the owner approves; the merge's registry-apply.yml (the reconciler's user) moves the alias
with the approver recorded; `reconciler show` prints the version's run, lineage and that apply; a
second training run opens the next proposal on the same branch.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.github.proposals import branch_name
from tests.github import events
from tests.github.fake import FakeGitHub
from tests.github.harness import Harness, log
from tests.integration.conftest import REPO, Stack, run_cli

pytestmark = pytest.mark.integration

MODEL = "tp-iris"
POLICY = "owners: [platform-lead]\nprotected: {aliases: [champion], approvals: 1, from: [model-owners]}\n"
FILE = f"""\
# yaml-language-server: $schema=../schemas/model.schema.json
name: {MODEL}
owners: [olivia]
description: Iris, trained by train.yml
permissions:
  trainer: EDIT        # the training job creates versions; moving aliases is this file's job
  reader: READ         # the pull requests' plans
review:
  protected:
    gates:
      - {{metric: accuracy, at_least: 0.9}}
propose:
  alias: challenger
  tags: [lineage.git_commit, lineage.data_fingerprint, lineage.workflow_run]
"""
CODE = {f"examples/{n}": (REPO / "examples" / n).read_text() for n in ("__init__.py", "train.py", "data_checks.py")}
KEYS = ("MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD")


def _harness(gh: FakeGitHub, stack: Stack, root: Path, evaluator, user: str) -> Harness:
    env = stack.env(user)
    secrets = {k: env[k] for k in KEYS} | {"RECONCILER_PLAN_KEY": "train-plan-key"}
    return Harness(gh, root / f"runs-{user}", evaluator, secrets=secrets, vars={"TRAIN_MODEL": MODEL})


def _trainer_may_not_grant(stack: Stack, cwd: Path) -> str:
    code = (
        "from mlflow.server import get_app_client\n"
        f"get_app_client('basic-auth', tracking_uri={stack.server.uri!r})"
        f".grant_user_permission('reader', 'registered_model', {MODEL!r}, 'MANAGE')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=stack.env("trainer"), cwd=cwd, capture_output=True, text=True
    )
    assert done.returncode != 0
    return done.stderr


def test_training_proposes_review_merges_and_the_merge_promotes(
    live_stack: Stack, tmp_path: Path, github_contract, expression_evaluator
):
    gh = FakeGitHub(tmp_path / "github")
    try:
        _scenario(gh, live_stack, tmp_path, expression_evaluator)
    finally:
        gh.close()
    gh.assert_clean()


def _scenario(gh: FakeGitHub, stack: Stack, root: Path, evaluator) -> None:
    gh.commit("main", {"models/_policy.yaml": POLICY, f"models/{MODEL}.yaml": FILE, **CODE}, "Adopt", "platform-lead")
    # The reconciler creates the model and grants the trainer EDIT, as the file says.
    checkout = root / "adopt"
    (checkout / "models").mkdir(parents=True)
    (checkout / "models" / "_policy.yaml").write_text(POLICY)
    (checkout / "models" / f"{MODEL}.yaml").write_text(FILE)
    adopted = run_cli(["apply", "--yes"], stack.env("reconciler"), checkout)
    assert adopted.returncode == 0, adopted.stdout + adopted.stderr
    assert "PERMISSION_DENIED" in _trainer_may_not_grant(stack, root) or "403" in _trainer_may_not_grant(stack, root)

    # A push to the training code: train.yml as the training user.
    before = gh.git.tip("main") or ""
    code_commit = gh.commit("main", {"examples/train.py": CODE["examples/train.py"] + "\n"}, "Tune", "dana")
    trainer = _harness(gh, stack, root, evaluator, "trainer")
    job = trainer.run("train.yml", events.push(gh, "main", before, actor="dana"))["train"]
    assert job.result == "success", log(job)
    [pr] = [p for p in gh.state.pulls.values() if p.state == "open"]
    assert pr.head_ref == branch_name(MODEL) and pr.title == f"Propose {MODEL} v1 as alias challenger"
    assert "today the candidate passes every gate" in (pr.body or "")
    assert "View run" not in job.step("Train").stdout  # MLflow's links carry the tracking URI

    # Plan, approval by the owner, merge, apply by the reconciler's user.
    reader = _harness(gh, stack, root, evaluator, "reader")
    plan = reader.run("registry-pr.yml", events.pull_request(gh, pr.number, "opened"))
    assert plan["plan"].result == "success", log(plan["plan"])
    review = gh.add_review(pr.number, "olivia", "APPROVED")
    judged = reader.run("registry-pr.yml", events.pull_request_review(gh, review.id))
    assert judged["review"].result == "success", log(judged["review"])
    before = gh.git.tip("main") or ""
    merged = gh.merge_pull_request(pr.number)
    applier = _harness(gh, stack, root, evaluator, "reconciler")
    applied = applier.run("registry-apply.yml", events.push(gh, "main", before))["apply"]
    assert applied.result == "success", log(applied)

    # The registry: the alias moved by the merge, the approver recorded; show prints it all.
    shown = run_cli(["show", MODEL, "1"], stack.env("reader"), root)
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert out.startswith(f"{MODEL} v1: READY, stage None, aliases challenger\n"), out
    assert f"  lineage.git_commit = {code_commit}" in out
    assert "  lineage.workflow_run = https://github.com/acme/registry/actions/runs/" in out
    assert f"commit {merged} " in out and "approved by olivia" in out, out
    assert f"promoted by commits: {merged}" in out

    # The next training run: a new proposal on the same branch (the merged one is kept as it is).
    again = trainer.run("train.yml", events.workflow_dispatch(gh, "train.yml", {"model": MODEL, "params": "C=5"}))
    assert again["train"].result == "success", log(again["train"])
    [nxt] = [p for p in gh.state.pulls.values() if p.state == "open"]
    assert nxt.number != pr.number and nxt.title == f"Propose {MODEL} v2 as alias challenger"
    text = gh.git.read(nxt.head_sha, f"models/{MODEL}.yaml") or ""
    assert "challenger: 2" in text
    json.dumps(text)  # plain text
