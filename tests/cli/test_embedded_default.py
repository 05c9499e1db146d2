"""The CLI as a subprocess on the embedded default (./mlflow.db): no server, no environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.error_handler import error_handler
from reconciler.errors import EXIT_INTERNAL


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env["XDG_CACHE_HOME"] = str(cwd / "cache")
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def registry(tmp_path_factory) -> Path:
    """A local registry with one model and two versions (registered directly: no training needed)."""
    from mlflow import MlflowClient

    root = tmp_path_factory.mktemp("embedded")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.create_registered_model("churn")
    for _ in range(2):
        client.create_model_version("churn", source=str(root / "artifacts"))
    (root / "models").mkdir()
    (root / "models" / "churn.yaml").write_text(
        "name: churn\ndescription: Churn model\naliases: {champion: 2}\nversions:\n  2: {stage: Production}\n"
    )
    return root


def client(registry: Path):
    from mlflow import MlflowClient

    uri = f"sqlite:///{registry / 'mlflow.db'}"
    return MlflowClient(registry_uri=uri, tracking_uri=uri)


def test_plan_apply_plan_on_the_embedded_registry(registry):
    plan = run(registry, "plan", "--detailed-exitcode", "--out", "plan.json")
    assert plan.returncode == 2, plan.stderr
    assert f"Registry: sqlite:///{registry / 'mlflow.db'} (embedded default)" in plan.stdout
    as_json = run(registry, "plan", "--format", "json")
    data = json.loads(as_json.stdout)
    assert data["format_version"] == 2 and data["summary"] == {"create": 1, "update": 2, "delete": 0}
    assert data["registry"] == f"sqlite:///{registry / 'mlflow.db'}"
    applied = run(registry, "apply", "plan.json", "--commit", "c1", "--pull-request", "7", "--approvers", "lead-a")
    assert applied.returncode == 0, applied.stderr
    assert "Applied 3 changes" in applied.stdout and "audit record written on 2 entities" in applied.stdout
    again = run(registry, "plan", "--detailed-exitcode")
    assert again.returncode == 0 and "No changes" in again.stdout


def test_the_audit_record_names_the_apply_and_its_journal_run(registry):
    """Version 2's record says who put it into Production; the journal run holds the whole apply."""
    from reconciler.apply.journal import Journal

    plan_hash = json.loads((registry / "plan.json").read_text())["plan_hash"]
    record = json.loads(client(registry).get_model_version("churn", "2").tags["gitops.audit"])
    assert record["plan"] == plan_hash and record["commit"] == "c1" and record["pull_request"] == "7"
    assert record["approved_by"] == ["lead-a"] and record["changes"] == ["~ v2 stage: 'None' -> 'Production'"]
    (entry,) = Journal(client(registry)).history("churn")
    assert entry.run_id == record["run"] and entry.state == "applied"
    assert entry.audit.pull_request == "7" and len(entry.changes) == 3 and len(entry.applied()) == 3


def test_a_plan_applied_by_hand_is_credited_to_nobody(registry):
    """Someone makes a saved plan's changes by hand: applying the plan must not credit them to the
    pull request and approvers given on the command line."""
    (registry / "models" / "churn.yaml").write_text(
        "name: churn\ndescription: Churn model\ntags: {team: churn}\naliases: {champion: 2}\n"
        "versions:\n  2: {stage: Production}\n"
    )
    assert run(registry, "plan", "--out", "hand.json").returncode == 0
    client(registry).set_registered_model_tag("churn", "team", "churn")  # by hand
    before = client(registry).get_registered_model("churn").tags["gitops.audit"]
    done = run(registry, "apply", "hand.json", "--pull-request", "8", "--approvers", "lead-b")
    assert done.returncode == 0, done.stderr
    assert "Nothing to do: the registry already matches hand.json" in done.stdout
    assert "Completed" not in done.stdout
    assert client(registry).get_registered_model("churn").tags["gitops.audit"] == before
    assert all(
        e.audit.pull_request != "8"
        for e in __import__("reconciler.apply.journal").apply.journal.Journal(client(registry)).history("churn")
    )


def test_tampered_plan_is_refused(registry):
    (registry / "models" / "churn.yaml").write_text("name: churn\ndescription: Tampered test\n")
    assert run(registry, "plan", "--out", "p.json").returncode == 0
    data = json.loads((registry / "p.json").read_text())
    data["changes"][0]["after"] = "something else"
    (registry / "p.json").write_text(json.dumps(data))
    done = run(registry, "apply", "p.json")
    assert done.returncode == 1 and "plan_hash does not match the plan" in done.stderr


def test_one_bad_file_means_nothing_is_written(registry):
    models = registry / "models"
    (models / "churn.yaml").write_text("name: churn\ndescription: should not be applied\n")
    (models / "broken.yaml").write_text("name: broken\nversions: {1: {stage: Live}}\n")
    done = run(registry, "apply", "--yes")
    assert done.returncode == 1
    assert "broken.yaml:2: /versions/1/stage: 'Live' is not one of" in done.stderr
    from mlflow import MlflowClient

    uri = f"sqlite:///{registry / 'mlflow.db'}"
    assert MlflowClient(registry_uri=uri, tracking_uri=uri).get_registered_model("churn").description == "Churn model"
    (models / "broken.yaml").unlink()


def test_direct_apply_without_a_terminal_needs_yes(registry):
    (registry / "models" / "churn.yaml").write_text("name: churn\ndescription: unreviewed\n")
    done = run(registry, "apply")
    assert done.returncode == 1 and "pass --yes, or apply a saved plan" in done.stderr
    from mlflow import MlflowClient

    uri = f"sqlite:///{registry / 'mlflow.db'}"
    assert MlflowClient(registry_uri=uri, tracking_uri=uri).get_registered_model("churn").description != "unreviewed"


def test_validate_is_offline_by_default(tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "m.yaml").write_text("name: m\naliases: {champion: 7}\n")
    done = run(tmp_path, "validate")
    assert done.returncode == 0 and "(schema and semantics)" in done.stdout
    assert not (tmp_path / "mlflow.db").exists()


def test_usage_errors_exit_1(tmp_path):
    done = run(tmp_path, "import")
    assert done.returncode == 1 and "give model NAMEs or --all" in done.stderr


def test_internal_errors_exit_differently_and_keep_the_traceback(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    with pytest.raises(SystemExit) as info, error_handler():
        raise RuntimeError("boom")
    assert info.value.code == EXIT_INTERNAL
    assert "internal error: RuntimeError: boom" in capsys.readouterr().err
    assert "RuntimeError: boom" in (tmp_path / "reconciler" / "crash.log").read_text()


def test_permissions_on_a_database_are_one_line_and_nothing_is_written(registry):
    perm = registry / "perm-models"
    perm.mkdir()
    (perm / "churn.yaml").write_text("name: churn\ndescription: with grants\npermissions: {analyst: READ}\n")
    assert run(registry, "validate", "--models-dir", "perm-models").returncode == 0  # the file itself is valid
    done = run(registry, "apply", "--yes", "--models-dir", "perm-models")
    assert done.returncode == 1
    assert done.stderr.startswith(
        "error: permissions: (set for model 'churn') need an MLflow server with basic auth, and "
        f"sqlite:///{registry / 'mlflow.db'} (embedded default) is a database, not a server"
    ), done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert client(registry).get_registered_model("churn").description != "with grants"


def test_import_of_a_name_too_long_for_a_file_is_a_user_error_and_all_reports_it(tmp_path):
    """MLflow takes names a file system cannot hold as `<name>.yaml`: import said "internal error",
    and `--all` imported nothing."""
    from mlflow import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    long_name = "y" * 252
    for name in (long_name, "churn"):
        MlflowClient(tracking_uri=uri, registry_uri=uri).create_registered_model(name)
    done = run(tmp_path, "import", long_name)
    assert done.returncode == 1, done.stderr
    assert "would have a name of 257 bytes, over the 255 file systems allow" in done.stderr
    assert not (tmp_path / "cache" / "reconciler" / "crash.log").exists()

    done = run(tmp_path, "import", "--all")  # what it can; the refused model one line, and exit 1
    assert done.returncode == 1, done.stderr
    assert f"error: model {long_name[:60]!r}…: its file would have a name of 257 bytes" in done.stderr
    assert "1 registered model(s) not imported" in done.stderr and (tmp_path / "models" / "churn.yaml").is_file()
    assert [p.name for p in (tmp_path / "models").iterdir()] == ["churn.yaml"]


def test_import_keeps_an_existing_files_mode_and_gives_a_new_one_the_umasks(registry, tmp_path):
    """import replaced models/churn.yaml, 0644, with a file of mode 0600, and created every file 0600."""
    import shutil
    import stat

    work = tmp_path / "work"
    shutil.copytree(registry, work)
    churn = work / "models" / "churn.yaml"
    churn.write_text("name: churn\ndescription: not what the registry says\n")
    churn.chmod(0o644)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")} | {"XDG_CACHE_HOME": str(work / "c")}
    cmd = [sys.executable, "-m", "reconciler", "import", "churn"]
    done = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=300, umask=0o077)
    assert done.returncode == 0, done.stderr
    assert "not what the registry says" not in churn.read_text() and stat.S_IMODE(churn.stat().st_mode) == 0o644
    churn.unlink()
    done = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=300, umask=0o027)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(churn.stat().st_mode) == 0o640


def test_a_stage_alias_whose_stage_has_two_holders_is_reported_by_validate_and_plan(registry, tmp_path):
    """v1 and v2 in Staging, alias 'staging' on v3: validate and plan said nothing, and consumers
    of @staging got a version that is not in Staging."""
    import shutil

    from mlflow import MlflowClient

    work = tmp_path / "work"
    shutil.copytree(registry, work)
    uri = f"sqlite:///{work / 'mlflow.db'}"
    mlflow = MlflowClient(tracking_uri=uri, registry_uri=uri)
    mlflow.create_model_version("churn", source=str(work / "artifacts"))
    for n in ("1", "2"):
        mlflow.transition_model_version_stage("churn", n, "Staging")
    mlflow.set_registered_model_alias("churn", "staging", "3")
    (work / "models" / "churn.yaml").write_text("name: churn\npolicy: {stage_aliases: {Staging: staging}}\n")
    says = (
        "churn alias[staging]: 2 versions are in Staging (v1, v2), so alias 'staging' cannot follow the stage and "
        "it stays on v3, which is not in Staging: consumers of @staging get that version; leave one version in "
        "Staging"
    )
    done = run(work, "validate", "--registry")
    assert done.returncode == 0 and f"note: models/churn.yaml: {says}" in done.stderr, done.stderr
    done = run(work, "plan")
    assert done.returncode == 0 and says in done.stdout.replace("\n", " "), done.stdout
    assert "No changes." in done.stdout and "1 policy note" in done.stdout
