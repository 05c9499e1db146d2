"""train.yml as GitHub runs it (tests/github/runner.py, GitHub's expression evaluator, the job's token
minted from its `permissions:`) against the fake GitHub and a registry: a push to the training code
validates the data, trains, registers with lineage and opens the proposal pull request; a dispatch
with a weak candidate fails at the gates and registers nothing; a later good run updates the same
pull request. (A real `mlflow server` with the training identity: tests/integration/test_train_pipeline.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from reconciler.github.proposals import branch_name
from tests.github import events
from tests.github.conftest import Registry
from tests.github.expressions import Evaluator
from tests.github.fake import FakeGitHub
from tests.github.harness import Harness, log

REPO = Path(__file__).resolve().parents[2]
MODEL = "iris-classifier"
FILE = """\
# yaml-language-server: $schema=../schemas/model.schema.json
name: iris-classifier
owners: [olivia]
review:
  protected:
    gates:
      - {metric: accuracy, at_least: 0.9}
      - {metric: f1_macro, no_worse_than_current_by: 0.01}
propose:
  alias: challenger   # training may ask for this one
  tags: [lineage.git_commit, lineage.data_fingerprint, lineage.workflow_run]
"""
POLICY = "owners: [platform-lead]\nprotected: {aliases: [champion], approvals: 1, from: [model-owners]}\n"
CODE = {f"examples/{n}": (REPO / "examples" / n).read_text() for n in ("train.py", "data_checks.py")}


@pytest.fixture
def harness(fake_github: FakeGitHub, tmp_path: Path, expression_evaluator: Evaluator, registry: Registry) -> Harness:
    fake_github.commit("main", {"models/_policy.yaml": POLICY, f"models/{MODEL}.yaml": FILE}, author="olivia")
    return Harness(fake_github, tmp_path / "runs", expression_evaluator, secrets={"MLFLOW_TRACKING_URI": registry.uri})


def _versions(registry: Registry) -> list:
    return sorted(registry.client.search_model_versions(f"name = '{MODEL}'"), key=lambda v: int(v.version))


def test_push_trains_registers_with_lineage_and_proposes_then_gates_refuse_then_update(
    harness: Harness, fake_github: FakeGitHub, registry: Registry
):
    before = fake_github.git.tip("main") or ""
    sha = fake_github.commit("main", CODE, "Train with the pandera checks", author="dana")
    jobs = harness.run("train.yml", events.push(fake_github, "main", before, actor="dana"))
    job = jobs["train"]
    assert job.result == "success", log(job)
    assert job.permissions == {"contents": "write", "metadata": "read", "pull-requests": "write"}
    assert "the iris data passes examples/data_checks.py" in job.step("Validate the data").stdout
    assert "FAILS" not in job.step("Check the candidate against the model's gates").stdout
    [v1] = _versions(registry)
    assert v1.tags["lineage.git_commit"] == sha
    assert v1.tags["lineage.workflow_run"].startswith("https://github.com/acme/registry/actions/runs/")
    assert v1.tags["lineage.data_fingerprint"].startswith("sha256:")
    [pr] = [p for p in fake_github.state.pulls.values() if p.state == "open"]
    assert pr.head_ref == branch_name(MODEL) and pr.title == f"Propose {MODEL} v1 as alias challenger"
    proposed = fake_github.git.read(pr.head_sha, f"models/{MODEL}.yaml") or ""
    doc = yaml.safe_load(proposed)
    assert doc["aliases"] == {"challenger": 1} and doc["versions"][1]["tags"]["lineage.git_commit"] == sha
    kept = FILE.split("review:")[1]
    assert proposed.endswith("review:" + kept)  # comments and layout kept, the new sections above review:
    assert "today the candidate passes every gate" in (pr.body or "")

    # A weak candidate (dispatch with a tiny C): refused at the gates, nothing registered or proposed.
    weak = harness.run(
        "train.yml", events.workflow_dispatch(fake_github, "train.yml", {"model": MODEL, "params": "C=0.0005"})
    )["train"]
    assert weak.result == "failure"
    gates = weak.step("Check the candidate against the model's gates")
    assert gates.outcome == "failure" and "FAILS" in gates.stdout
    assert "fails 1 gate(s) of 'iris-classifier': alias champion accuracy >= 0.9" in gates.stderr
    assert weak.step("Register the version with its lineage").outcome == "skipped"
    assert len(_versions(registry)) == 1

    # A good one later: the same pull request, now proposing v2.
    good = harness.run(
        "train.yml", events.workflow_dispatch(fake_github, "train.yml", {"model": MODEL, "params": "C=5"})
    )["train"]
    assert good.result == "success", log(good)
    assert [p.number for p in fake_github.state.pulls.values() if p.state == "open"] == [pr.number]
    assert pr.title == f"Propose {MODEL} v2 as alias challenger"
    assert [c.body for c in fake_github.comments_on(pr.number)] == [
        "Superseded: training registered v2, which replaces v1 in this proposal."
    ]
