"""The CLI end to end against PostgreSQL + S3 (moto) + `mlflow server` with basic auth.

Tests in this module run in order and share one registry: a scenario, step by step.
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from ruamel.yaml import YAML

from tests.integration.conftest import Stack, grant, run_cli, run_training

pytestmark = pytest.mark.integration

MODEL = "it-iris"
TRAIN = """
import json
from examples.train import train_iris
import mlflow
for c in (0.05, 1.0):
    t = train_iris(c=c, model_name="it-iris")
    print(json.dumps({"version": t.version, "run_id": t.run_id}))
"""

DESIRED = f"""\
# yaml-language-server: $schema=../schemas/model.schema.json
# The team's iris model: comments like this one survive 'reconciler import'.
name: {MODEL}
description: Iris classifier (integration test)
owners: [ml-platform]
tags:
  team: vision   # who to page
aliases:
  champion: 2
versions:
  1:
    stage: Staging
  2:
    stage: Production
    description: C=1.0
    tags: {{validated: "yes"}}
policy:
  exclusive_stages: [Production]
  stage_aliases: {{Staging: staging}}
"""


@pytest.fixture(scope="module")
def work(live_stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("work")
    out = run_training(live_stack, TRAIN, root)
    versions = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert [v["version"] for v in versions] == [1, 2]
    grant(live_stack, MODEL)  # the reconciler's service account may manage this model
    (root / "models").mkdir()
    (root / "models" / f"{MODEL}.yaml").write_text(DESIRED)
    return {"root": root, "runs": versions}


def client(live_stack: Stack):
    from mlflow import MlflowClient

    os.environ.update(
        {
            k: v
            for k, v in live_stack.env("admin", live_stack.server.admin_password).items()
            if k.startswith(("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"))
        }
    )
    return MlflowClient(tracking_uri=live_stack.server.uri, registry_uri=live_stack.server.uri)


def cli(live_stack: Stack, work: dict, *args: str, user: str = "reconciler", password: str | None = None):
    return run_cli(list(args), live_stack.env(user, password), work["root"])


def test_validate_checks_references_against_the_registry(live_stack, work):
    done = cli(live_stack, work, "validate")
    assert done.returncode == 0, done.stderr
    assert "references against http://127.0.0.1" in done.stdout


def test_plan_shows_changes_and_saves_a_plan(live_stack, work):
    done = cli(live_stack, work, "plan", "--out", "plan.json", "--detailed-exitcode")
    assert done.returncode == 2, done.stderr
    assert "~ v2 stage: 'None' -> 'Production'" in done.stdout
    assert "+ alias[champion] = v2" in done.stdout
    assert "+ alias[staging] = v1" in done.stdout
    saved = json.loads((work["root"] / "plan.json").read_text())
    assert saved["format_version"] == 2 and saved["live_fingerprint"].startswith("sha256:")
    assert saved["registry"] == live_stack.server.uri
    md = cli(live_stack, work, "plan", "--format", "markdown")
    expected = "| ~ | <code>v2 stage</code> | <code>&#39;None&#39;</code> | <code>&#39;Production&#39;</code> |  |"
    assert md.returncode == 0 and expected in md.stdout


def test_apply_saved_plan_writes_changes_and_audit(live_stack, work):
    done = cli(
        live_stack,
        work,
        "apply",
        "plan.json",
        "--commit",
        "c0ffee1",
        "--pull-request",
        "17",
        "--approvers",
        "lead-a,lead-b",
    )
    assert done.returncode == 0, done.stderr
    c = client(live_stack)
    model = c.get_registered_model(MODEL)
    assert model.description == "Iris classifier (integration test)"
    assert model.tags["team"] == "vision"
    assert model.aliases == {"champion": "2", "staging": "1"}
    v1, v2 = c.get_model_version(MODEL, "1"), c.get_model_version(MODEL, "2")
    assert (v1.current_stage, v2.current_stage) == ("Staging", "Production")
    assert v2.description == "C=1.0" and v2.tags["validated"] == "yes"
    audit = json.loads(v2.tags["gitops.audit"])
    assert audit["commit"] == "c0ffee1" and audit["pull_request"] == "17"
    assert audit["approved_by"] == ["lead-a", "lead-b"] and audit["applied_at"].endswith("Z")
    assert audit["plan"] == json.loads((work["root"] / "plan.json").read_text())["plan_hash"]
    assert json.loads(model.tags["gitops.audit"])["commit"] == "c0ffee1"


def test_second_apply_changes_nothing(live_stack, work):
    before = client(live_stack).get_registered_model(MODEL).last_updated_timestamp
    again = cli(live_stack, work, "apply", "plan.json")
    assert again.returncode == 0 and "already matches" in again.stdout
    direct = cli(live_stack, work, "apply", "--yes")
    assert direct.returncode == 0 and "No changes" in direct.stdout
    plan = cli(live_stack, work, "plan", "--detailed-exitcode")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert client(live_stack).get_registered_model(MODEL).last_updated_timestamp == before


def test_models_load_by_alias_and_stage_and_predict(live_stack, work):
    import mlflow.pyfunc
    from sklearn.datasets import load_iris

    client(live_stack)
    os.environ.update({k: v for k, v in live_stack.server.env.items() if k.startswith(("AWS_", "MLFLOW_S3"))})
    mlflow.set_tracking_uri(live_stack.server.uri)
    x, _ = load_iris(return_X_y=True, as_frame=True)
    for uri in (f"models:/{MODEL}@champion", f"models:/{MODEL}/Production", f"models:/{MODEL}@staging"):
        predictions = mlflow.pyfunc.load_model(uri).predict(x.head(5))
        assert len(predictions) == 5 and set(predictions) <= {0, 1, 2}


def test_stale_saved_plan_is_refused(live_stack, work):
    models = work["root"] / "models" / f"{MODEL}.yaml"
    models.write_text(DESIRED.replace("description: Iris classifier (integration test)", "description: v2 text"))
    assert cli(live_stack, work, "plan", "--out", "stale.json").returncode == 0
    client(live_stack).set_registered_model_tag(MODEL, "team", "changed-by-hand")  # someone clicks in the UI
    done = cli(live_stack, work, "apply", "stale.json")
    assert done.returncode == 1
    assert "registry changed since this plan was made" in done.stderr and "reconciler plan" in done.stderr
    model = client(live_stack).get_registered_model(MODEL)
    assert model.description == "Iris classifier (integration test)"  # nothing written
    assert model.tags["team"] == "changed-by-hand"


def test_direct_apply_moves_stage_and_alias(live_stack, work):
    models = work["root"] / "models" / f"{MODEL}.yaml"
    text = DESIRED.replace("champion: 2", "champion: 1").replace("    stage: Staging\n", "    stage: Production\n")
    text = text.replace("    stage: Production\n    description: C=1.0", "    description: C=1.0")
    models.write_text(text)
    plan = cli(live_stack, work, "plan")
    assert "~ v2 stage: 'Production' -> 'Archived'   (policy.exclusive_stages)" in plan.stdout, plan.stdout
    assert "- alias[staging] (was v1)   (policy.stage_aliases)" in plan.stdout
    done = cli(live_stack, work, "apply", "--yes", "--commit", "beef")
    assert done.returncode == 0, done.stderr
    c = client(live_stack)
    assert c.get_model_version(MODEL, "1").current_stage == "Production"
    assert c.get_model_version(MODEL, "2").current_stage == "Archived"
    model = c.get_registered_model(MODEL)
    assert model.aliases == {"champion": "1"}  # 'staging' followed Staging, which nobody holds now
    assert model.tags["team"] == "vision"  # the hand edit was reverted to the file's value
    assert json.loads(c.get_model_version(MODEL, "1").tags["gitops.audit"])["commit"] == "beef"


def test_unmanaged_alias_is_reported_not_removed(live_stack, work):
    client(live_stack).set_registered_model_alias(MODEL, "shadow", "2")  # set by hand, not in the file
    done = cli(live_stack, work, "plan", "--detailed-exitcode")
    assert done.returncode == 0, done.stdout
    assert "alias[shadow]: in the registry, not in the file" in done.stdout
    assert client(live_stack).get_registered_model(MODEL).aliases.get("shadow") == "2"


def test_import_round_trip_keeps_comments_and_plans_no_changes(live_stack, work):
    models = work["root"] / "models" / f"{MODEL}.yaml"
    done = cli(live_stack, work, "import", MODEL)
    assert done.returncode == 0, done.stderr
    text = models.read_text()
    assert "# The team's iris model: comments like this one survive" in text
    assert "team: vision   # who to page" in text
    assert "exclusive_stages" in text  # policy is the file's, kept
    plan = cli(live_stack, work, "plan", "--detailed-exitcode")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    fresh = work["root"] / "imported"
    done = cli(live_stack, work, "import", "--all", "--models-dir", str(fresh))
    # The session's server also holds the lock tests' models (gitops.lock-<hex>): no file may hold
    # a gitops.* name, so --all refuses them, one line each, and exits 1; every other model is written.
    refused = [line for line in done.stderr.splitlines() if line.startswith("error: model ")]
    assert done.returncode == (1 if refused else 0), done.stderr
    assert all(line.startswith("error: model 'gitops.lock-") for line in refused), done.stderr
    assert (fresh / f"{MODEL}.yaml").read_text().startswith("# yaml-language-server: $schema=")
    plan = cli(live_stack, work, "plan", "--detailed-exitcode", "--models-dir", str(fresh))
    assert plan.returncode == 0, plan.stdout + plan.stderr


def test_missing_version_is_an_error_and_nothing_is_written(live_stack, work):
    bad = work["root"] / "bad-models"
    bad.mkdir()
    (bad / f"{MODEL}.yaml").write_text(f"name: {MODEL}\ndescription: changed\naliases:\n  champion: 99\n")
    done = cli(live_stack, work, "apply", "--yes", "--models-dir", str(bad))
    assert done.returncode == 1
    assert f"/aliases/champion: model '{MODEL}' has no version 99" in done.stderr
    assert client(live_stack).get_registered_model(MODEL).description != "changed"


def test_version_from_a_failed_run_cannot_be_promoted(live_stack, work):
    code = TRAIN + "\nfrom mlflow import MlflowClient\nMlflowClient().set_terminated(t.run_id, 'FAILED')\n"
    out = run_training(live_stack, code.replace("(0.05, 1.0)", "(3.0,)"), work["root"])
    failed = json.loads([line for line in out.splitlines() if line.startswith("{")][-1])
    bad = work["root"] / "failed-run"
    bad.mkdir()
    (bad / f"{MODEL}.yaml").write_text(f"name: {MODEL}\naliases:\n  champion: {failed['version']}\n")
    done = cli(live_stack, work, "plan", "--models-dir", str(bad))
    assert done.returncode == 1
    assert f"version {failed['version']}: its training run {failed['run_id']} failed" in done.stderr


def test_wrong_password_is_a_one_line_error(live_stack, work):
    done = cli(live_stack, work, "plan", password="wrong")
    assert done.returncode == 1
    assert "refused the credentials (HTTP 401)" in done.stderr
    assert "Traceback" not in done.stderr


def test_user_without_permission_writes_nothing(live_stack, work):
    models = work["root"] / "models" / f"{MODEL}.yaml"
    models.write_text(models.read_text().replace("team: vision", "team: readers-try"))
    done = cli(live_stack, work, "apply", "--yes", user="reader")
    assert done.returncode == 1
    assert "grant this user EDIT on 'gitops.lock'" in done.stderr, done.stderr
    assert client(live_stack).get_registered_model(MODEL).tags["team"] == "vision"


def test_partial_failure_is_reported_per_change_and_a_rerun_converges(live_stack, work):
    run_training(
        live_stack,
        "from mlflow import MlflowClient\nMlflowClient().create_registered_model('it-other')\n",
        work["root"],
    )
    models = work["root"] / "partial"
    models.mkdir()
    (models / f"{MODEL}.yaml").write_text(f"name: {MODEL}\ntags: {{team: vision, tier: gold}}\n")
    (models / "it-other.yaml").write_text("name: it-other\ndescription: owned by another team\n")
    done = cli(live_stack, work, "apply", "--yes", "--models-dir", str(models))
    assert done.returncode == 1
    assert "failed: it-other description: the registry" in done.stderr and "denied permission" in done.stderr
    assert "1 of 2 changes did not apply" in done.stderr
    assert client(live_stack).get_registered_model(MODEL).tags["tier"] == "gold"  # the other change landed
    grant(live_stack, "it-other")  # the cause is fixed
    again = cli(live_stack, work, "apply", "--yes", "--models-dir", str(models))
    assert again.returncode == 0, again.stderr
    assert "Applied 1 change;" in again.stdout
    assert client(live_stack).get_registered_model("it-other").description == "owned by another team"
    final = cli(live_stack, work, "plan", "--detailed-exitcode", "--models-dir", str(models))
    assert final.returncode == 0, final.stdout


def test_unreachable_registry_is_a_one_line_error(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env.update(MLFLOW_TRACKING_URI="http://127.0.0.1:9", MLFLOW_HTTP_REQUEST_MAX_RETRIES="0")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "m.yaml").write_text(textwrap.dedent("name: m\n"))
    done = run_cli(["plan"], env, tmp_path)
    assert done.returncode == 1
    assert "cannot reach the registry http://127.0.0.1:9" in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_unreachable_database_uri_is_a_one_line_error_without_the_password(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env["MLFLOW_TRACKING_URI"] = "postgresql://mlflow:hunter2secret@127.0.0.1:9/mlflow"
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "m.yaml").write_text("name: m\n")
    done = run_cli(["plan"], env, tmp_path)
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("error: cannot use the registry postgresql://mlflow:***@127.0.0.1:9/mlflow: ")
    assert "hunter2secret" not in done.stdout + done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_files_created_by_the_cli_stay_inside_the_work_dir(work):
    assert not Path(work["root"], "mlflow.db").exists()  # an HTTP registry never falls back to SQLite


def test_a_database_uri_is_a_registry_too(live_stack, work, tmp_path):
    """MLflow accepts the backend database as a tracking URI; so does the reconciler (admins only:
    it bypasses the server's authentication). Writes then go straight to PostgreSQL, in parallel."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env["MLFLOW_TRACKING_URI"] = live_stack.server.env["MLFLOW_BACKEND_STORE_URI"]
    assert run_cli(["import", MODEL], env, tmp_path).returncode == 0
    path = tmp_path / "models" / f"{MODEL}.yaml"
    yaml = YAML()
    doc = yaml.load(path)
    doc.setdefault("tags", {})["served_from"] = "database"
    yaml.dump(doc, path)
    plan = run_cli(["plan", "--detailed-exitcode"], env, tmp_path)
    assert plan.returncode == 2 and "+ tag[served_from] = 'database'" in plan.stdout, plan.stdout + plan.stderr
    password = urlsplit(env["MLFLOW_TRACKING_URI"]).password
    assert password and password not in plan.stdout + plan.stderr and ":***@" in plan.stdout  # masked
    done = run_cli(["apply", "--yes", "--commit", "db1"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    model = client(live_stack).get_registered_model(MODEL)  # read back through the server
    assert model.tags["served_from"] == "database" and json.loads(model.tags["gitops.audit"])["commit"] == "db1"
