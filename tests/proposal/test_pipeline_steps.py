"""The training pipeline's steps on a registry file: data validation (pandera rules), train and log,
the gates before registering (a failing run is not registered, and the job says why), register with
lineage tags, propose, apply with the approvers recorded, and `reconciler show` printing it all."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from examples import train
from tests.proposal.registry import env

REPO = Path(__file__).resolve().parents[2]
FILE = """\
name: iris-classifier
owners: [ml-platform]
aliases:
  champion: 1
review:
  protected:
    gates:
      - {metric: accuracy, at_least: 0.9}
      - {metric: f1_macro, no_worse_than_current_by: 0.01}
propose:
  alias: challenger
  tags: [lineage.git_commit, lineage.data_fingerprint, lineage.workflow_run]
"""
POLICY = "owners: [ml-platform]\nprotected: {aliases: [champion], approvals: 1, from: [model-owners]}\n"


def step(root: Path, *args: str, **extra: str) -> subprocess.CompletedProcess:
    cmd = (
        [sys.executable, str(REPO / "examples" / "train.py"), *args]
        if args[0] in ("fit", "register", "validate")
        else [sys.executable, "-m", "reconciler", *args]
    )
    e = env(root, PYTHONPATH=str(REPO), **extra)
    return subprocess.run(cmd, cwd=root, env=e, capture_output=True, text=True, timeout=300)


def outputs(done: subprocess.CompletedProcess) -> dict[str, str]:
    assert done.returncode == 0, done.stderr[-2000:]
    return dict(re.findall(r"^(\w+)=(\S+)$", done.stdout, re.M))


def test_the_data_rules_refuse_a_bad_frame_naming_column_and_rule():
    kind = train.kind_of("iris-classifier")
    df = train.frame(kind)
    train.validate(kind, df)  # the shipped data passes
    bad = df.copy()
    bad.loc[3, "petal width (cm)"] = -1.0
    bad.loc[5, "target"] = 7
    with pytest.raises(SystemExit) as e:
        train.validate(kind, bad)
    message = str(e.value)
    assert message.startswith("error: the iris data breaks 2 rule(s) of examples/data_checks.py:")
    assert "petal width (cm): greater_than(0)" in message and "target: isin([0, 1, 2])" in message
    assert train.fingerprint(df) != train.fingerprint(bad) and train.fingerprint(df) == train.fingerprint(df.copy())


def test_gates_before_registering_then_lineage_propose_apply_and_show(tmp_path: Path):
    root = tmp_path
    (root / "models").mkdir()
    (root / "models" / "iris-classifier.yaml").write_text(FILE)
    (root / "models" / "_policy.yaml").write_text(POLICY)
    ci = {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/registry", "GITHUB_RUN_ID": "77"}
    assert step(root, "validate", "iris-classifier").returncode == 0
    first = outputs(step(root, "fit", "iris-classifier", "--param", "C=10", **ci))
    v1 = outputs(step(root, "register", "iris-classifier", first["run_id"], **ci))["version"]
    assert v1 == "1"
    from tests.proposal.registry import client

    c = client(f"sqlite:///{root / 'mlflow.db'}")
    c.set_registered_model_alias("iris-classifier", "champion", "1")

    # A weak candidate: refused before registering, the job says which gates and why.
    weak = outputs(step(root, "fit", "iris-classifier", "--param", "C=0.001"))
    refused = step(root, "gates", "iris-classifier", "--run", weak["run_id"])
    assert refused.returncode == 1
    assert "alias champion: accuracy >= 0.9:" in refused.stdout and "FAILS" in refused.stdout
    [line] = refused.stderr.strip().splitlines()
    assert line.startswith(f"error: run {weak['run_id']} fails 2 gate(s) of 'iris-classifier': alias champion accuracy")
    assert len(c.search_model_versions("name = 'iris-classifier'")) == 1  # nothing registered

    # A good one: passes, registered with lineage, proposed.
    good = outputs(step(root, "fit", "iris-classifier", "--param", "C=10", **ci))
    passes = step(root, "gates", "iris-classifier", "--run", good["run_id"])
    assert passes.returncode == 0 and "FAILS" not in passes.stdout, passes.stdout + passes.stderr
    v2 = outputs(step(root, "register", "iris-classifier", good["run_id"], **ci))["version"]
    version = c.get_model_version("iris-classifier", v2)
    assert version.run_id == good["run_id"]
    assert version.tags["lineage.workflow_run"] == "https://github.com/acme/registry/actions/runs/77"
    assert version.tags["lineage.data_fingerprint"].startswith("sha256:")
    assert re.fullmatch(r"[0-9a-f]{40}", version.tags["lineage.git_commit"])
    proposed = step(root, "propose", "iris-classifier", v2)
    assert proposed.returncode == 0, proposed.stderr
    text = (root / "models" / "iris-classifier.yaml").read_text()
    assert (
        f"challenger: {v2}" in text
        and f"      lineage.data_fingerprint: {version.tags['lineage.data_fingerprint']}\n" in text
    )

    # The merge's apply (the identity that may move aliases), then show has it all.
    applied = step(
        root, "apply", "--yes", RECONCILER_COMMIT="c0ffee1", RECONCILER_PULL_REQUEST="#12", RECONCILER_APPROVERS="bob"
    )
    assert applied.returncode == 0, applied.stdout + applied.stderr
    shown = step(root, "show", "iris-classifier", v2)
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert out.startswith(f"iris-classifier v{v2}: READY, stage None, aliases challenger\n")
    assert f"run: {good['run_id']} (FINISHED)" in out and "  C = 10.0" in out and "  accuracy = " in out
    assert "iris-train (digest" in out and "MLmodel" in out
    assert "  lineage.workflow_run = https://github.com/acme/registry/actions/runs/77" in out
    assert re.search(r"commit c0ffee1 #12, approved by bob; applied by \S+", out), out
    assert f"    + alias[challenger]: None -> {v2}\n" in out and "promoted by commits: c0ffee1" in out


def test_register_refuses_another_models_run_and_converges_on_a_registered_one(tmp_path: Path):
    """hostile6 #9: a Ridge regressor's run became iris-classifier v6, and registering a run twice
    gave two versions (keep_latest then counted them)."""
    root = tmp_path
    for bad, says in (("C=nan", "give a finite number above 0"), ("C=-1", "give a finite number above 0")):
        done = step(root, "fit", "iris-classifier", "--param", bad)
        assert done.returncode == 1 and done.stderr.strip().splitlines() == [
            f"error: --param {bad!r}: {says} (C and alpha are strengths)"
        ], done.stderr
    twice = step(root, "fit", "iris-classifier", "--param", "C=10", "--param", "C=20")
    assert twice.returncode == 1 and "error: --param C is given twice (10 and 20); give it once" in twice.stderr
    run = outputs(step(root, "fit", "iris-classifier", "--param", "C=10"))["run_id"]
    first = outputs(step(root, "register", "iris-classifier", run))["version"]
    again = outputs(step(root, "register", "iris-classifier", run))["version"]
    assert first == again == "1"
    other = step(root, "register", "diabetes-regressor", run)
    assert other.returncode == 1, other.stdout + other.stderr
    (line,) = other.stderr.strip().splitlines()
    assert line.startswith(f"error: run {run} was trained in experiment 'examples-iris-classifier', not "), line
    from tests.proposal.registry import client

    c = client(f"sqlite:///{root / 'mlflow.db'}")
    assert len(c.search_model_versions("name = 'iris-classifier'")) == 1
    assert c.search_registered_models(filter_string="name = 'diabetes-regressor'") == []
