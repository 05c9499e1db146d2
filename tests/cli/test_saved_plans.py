"""Saved plans cannot be edited, misdirected or half-applied (each case failed before the fix).

A local registry with one model; each test makes a plan, attacks it, and checks that apply refuses
it with a one-line error and writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.plan.values import canonical_json
from tests.support import secrets_scan

FILE = "name: churn\ndescription: reviewed\naliases: {champion: 2}\nversions:\n  2: {stage: Production}\n"


def run(cwd: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "RECONCILER_"))}
    base.update(XDG_CACHE_HOME=str(cwd / "cache"), **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args], cwd=cwd, env=base, capture_output=True, text=True, timeout=300
    )


def registry(root: Path, name: str = "mlflow.db"):
    from mlflow import MlflowClient

    uri = f"sqlite:///{root / name}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.create_registered_model("churn", description="before")
    for _ in range(2):
        client.create_model_version("churn", source=str(root / "artifacts"))
    return client


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """One registry and its plan, made once in the directory every test of this module works in
    (a plan names its registry by path, so the copy's plan stays valid); returns the pristine copy."""
    root = tmp_path_factory.mktemp("saved-plans")
    work = root / "work"
    work.mkdir()
    registry(work)
    (work / "models").mkdir()
    (work / "models" / "churn.yaml").write_text(FILE)
    assert run(work, "plan", "--out", "plan.json").returncode == 0
    shutil.copytree(work, root / "template")
    return root / "template"


@pytest.fixture
def work(template) -> Path:
    """The registry and plan as made, restored into the directory the plan was made in."""
    work = template.parent / "work"
    shutil.rmtree(work)
    shutil.copytree(template, work)
    return work


def rehash(data: dict) -> dict:
    """What a careful forger does after an edit: the hash and the summary made to match again."""
    body = {k: data[k] for k in ("registry", "scope", "live_fingerprint", "desired", "changes", "notes")}
    data["plan_hash"] = "sha256:" + hashlib.sha256(canonical_json(body).encode()).hexdigest()
    counts = {action: sum(1 for c in data["changes"] if c["action"] == action) for action in data["summary"]}
    data["summary"] = counts
    return data


def edit(work: Path, change) -> Path:
    data = json.loads((work / "plan.json").read_text())
    change(data)
    (work / "edited.json").write_text(json.dumps(rehash(data)))
    return work / "edited.json"


def untouched(work: Path) -> bool:
    from mlflow import MlflowClient

    uri = f"sqlite:///{work / 'mlflow.db'}"
    m = MlflowClient(tracking_uri=uri, registry_uri=uri).get_registered_model("churn")
    return m.description == "before" and not m.aliases


def test_after_values_edited_with_the_hash_recomputed_are_refused(work):
    path = edit(work, lambda d: d["changes"][1].update(after="hacked"))
    done = run(work, "apply", path.name)
    assert done.returncode == 1 and "not what its desired state gives" in done.stderr
    assert untouched(work)


def test_desired_state_and_notes_are_inside_the_hash(work):
    data = json.loads((work / "plan.json").read_text())
    data["desired"][0]["description"] = "hacked"
    (work / "edited.json").write_text(json.dumps(data))
    done = run(work, "apply", "edited.json")
    assert done.returncode == 1 and "plan_hash does not match the plan" in done.stderr
    data = json.loads((work / "plan.json").read_text())
    data["notes"] = [{"address": {"model": "x", "version": None, "field": "model", "key": None}, "message": "hi"}]
    (work / "edited.json").write_text(json.dumps(data))
    assert "plan_hash does not match the plan" in run(work, "apply", "edited.json").stderr
    assert untouched(work)


def test_edited_desired_state_and_changes_together_are_applied_only_as_a_valid_plan(work):
    """Someone edits both consistently and recomputes the hash: without a key that is a valid plan,
    and apply says what each check protects (README). With RECONCILER_PLAN_KEY it is refused."""
    key = {"RECONCILER_PLAN_KEY": "k" * 31 + "K"}
    secrets_scan.register(key["RECONCILER_PLAN_KEY"])
    assert run(work, "plan", "--out", "signed.json", env=key).returncode == 0
    data = json.loads((work / "signed.json").read_text())
    data["desired"][0]["description"] = "hacked"
    data["changes"] = [c for c in data["changes"] if c["address"]["field"] != "description"]
    data["changes"].append(
        {
            "address": {"model": "churn", "version": None, "field": "description", "key": None},
            "action": "update",
            "before": "before",
            "after": "hacked",
            "reason": None,
        }
    )
    (work / "forged.json").write_text(json.dumps(rehash(data)))
    done = run(work, "apply", "forged.json", env=key)
    assert done.returncode == 1 and "signature does not match" in done.stderr
    unsigned = {k: v for k, v in data.items() if k != "signature"}
    (work / "unsigned.json").write_text(json.dumps(unsigned))
    done = run(work, "apply", "unsigned.json", env=key)
    assert done.returncode == 1 and "not signed" in done.stderr
    assert untouched(work)
    assert run(work, "apply", "signed.json", env=key).returncode == 0


def test_a_crafted_stage_change_is_refused_before_any_write(work):
    def craft(d):
        d["changes"].insert(
            0,
            {
                "address": {"model": "churn", "version": 1, "field": "stage", "key": None},
                "action": "update",
                "before": "None",
                "after": "NotAStage",
                "reason": None,
            },
        )

    done = run(work, "apply", edit(work, craft).name)
    assert done.returncode == 1 and "nothing was written" in done.stderr
    assert untouched(work)


def test_a_change_to_a_field_no_declaration_has_is_refused(work):
    path = edit(work, lambda d: d["changes"][0]["address"].update(field="owner"))
    done = run(work, "apply", path.name)
    assert done.returncode == 1 and "not a valid plan" in done.stderr


def test_plan_out_refuses_a_link_and_dash_before_reading_the_registry(work):
    """--out replaced a symlink with the plan (its target never written), and '-' made a file named '-'."""
    target = work / "kept.json"
    target.write_text("{}\n")
    (work / "link.json").symlink_to(target)
    done = run(work, "plan", "--out", "link.json")
    assert done.returncode == 1 and done.stderr.startswith("error: link.json: is a symbolic link (to "), done.stderr
    assert len(done.stderr.splitlines()) == 1 and "Registry:" not in done.stdout
    assert (work / "link.json").is_symlink() and target.read_text() == "{}\n"
    done = run(work, "plan", "--out", "-")
    assert done.returncode == 1 and "'-': writing to standard output is not supported here" in done.stderr
    assert not (work / "-").exists()


def test_plan_out_refuses_a_path_inside_the_models_directory(work):
    """--out models/m.yaml replaced the model file the plan was computed from with the plan's JSON."""
    files = {f: f.read_bytes() for f in (work / "models").iterdir()}
    assert files
    for out in [
        *(str(f.relative_to(work)) for f in files),
        "models/new.yaml",
        "models/sub/p.json",
        "./models/../models/x",
    ]:
        done = run(work, "plan", "--out", out)
        assert done.returncode == 1, (out, done.stderr)
        assert done.stderr == (
            f"error: {Path(out)}: is inside the models directory models; refusing to write a plan there: "
            "save it outside it (e.g. --out plan.json)\n"
        ), done.stderr
    assert {f: f.read_bytes() for f in (work / "models").iterdir()} == files
    assert not (work / "models" / "sub").exists()


def test_apply_dash_is_refused_consistently_with_plan_out(work):
    done = run(work, "apply", "-")
    assert done.returncode == 1, done.stderr
    assert done.stderr == (
        "error: '-': a saved plan is read from a file, not standard input; save it with "
        "'reconciler plan --out plan.json' and apply that file (a file named '-' is ./-)\n"
    )
    assert untouched(work)


def test_devices_fifos_and_huge_numbers_are_one_line_user_errors(work):
    """apply /dev/zero reached 9.5 GB of memory, /dev/urandom and a FIFO hung, and a number of over
    4,300 digits was an internal error (exit 3)."""
    import time

    os.mkfifo(work / "fifo.json")
    data = json.loads((work / "plan.json").read_text())
    (work / "digits.json").write_text(
        json.dumps(data).replace('"format_version": 2', '"format_version": ' + "2" * 5000)
    )
    cases = {
        "/dev/zero": "/dev/zero: is a character device, not a plan file",
        "/dev/urandom": "/dev/urandom: is a character device, not a plan file",
        "fifo.json": "fifo.json: is a named pipe (FIFO), not a plan file",
        "digits.json": "digits.json: not a plan this reconciler wrote: it holds an integer of 5,000 digits",
    }
    for path, says in cases.items():
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "reconciler", "apply", path],
            cwd=work,
            env={k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "RECONCILER_"))}
            | {"XDG_CACHE_HOME": str(work / "cache")},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 1 and done.stderr.startswith(f"error: {says}"), (path, done.stderr)
        assert len(done.stderr.splitlines()) == 1 and time.monotonic() - started < 30, (path, done.stderr)
    assert untouched(work)


@pytest.mark.parametrize("ttl", ["0", "-5", "abc", "nan", "inf", "\uff13\uff16\uff10\uff10"])
def test_a_bad_lock_ttl_is_refused_before_anything_is_written(work, ttl):
    """0, -5, abc and nan were exit 3; inf killed the heartbeat thread with a traceback, and the
    apply went on and exited 0."""
    for command in (["apply", "plan.json"], ["unlock"]):  # hostile6 #14: unlock said "free", exit 0
        done = run(work, *command, env={"RECONCILER_LOCK_TTL": ttl})
        assert done.returncode == 1, (command, done.stderr)
        assert done.stderr == (
            f"error: RECONCILER_LOCK_TTL={ttl!r} is not a number of seconds from 30 to 3600; "
            "set one in that range, or unset it for the default of 60\n"
        ), command
        assert untouched(work)


@pytest.mark.parametrize("timeout", ["nan", "inf", "-inf"])
def test_a_lock_timeout_that_is_no_finite_number_is_refused(work, timeout):
    """nan was accepted (FloatRange compares nothing true with NaN), and inf waited for ever."""
    done = run(work, "apply", "plan.json", "--lock-timeout", timeout)
    assert done.returncode == 1 and "--lock-timeout" in done.stderr, done.stderr
    assert "finite" in done.stderr or "range" in done.stderr, done.stderr
    assert untouched(work)


def test_a_plan_made_against_one_registry_is_refused_by_another(work, template):
    other = template / "mlflow.db"  # a registry with the same content, elsewhere
    done = run(work, "apply", "plan.json", env={"MLFLOW_TRACKING_URI": f"sqlite:///{other}"})
    assert done.returncode == 1 and "the plan was made against sqlite:///" in done.stderr
    assert f"not sqlite:///{other}" in done.stderr


def test_models_dir_with_a_saved_plan_is_a_usage_error(work):
    done = run(work, "apply", "plan.json", "--models-dir", "elsewhere")
    assert done.returncode == 1 and "--models-dir is not used with PLAN_FILE" in done.stderr
    assert untouched(work)


def test_read_only_commands_never_create_a_registry(tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "m.yaml").write_text("name: m\n")
    missing = tmp_path / "no" / "such" / "dir" / "x.db"
    done = run(tmp_path, "plan", env={"MLFLOW_TRACKING_URI": f"sqlite:///{missing}"})
    assert done.returncode == 1 and f"no registry at {missing}" in done.stderr
    assert not (tmp_path / "no").exists()
    done = run(tmp_path, "plan")  # the embedded default, which does not exist here
    assert done.returncode == 1 and "no registry at" in done.stderr and not (tmp_path / "mlflow.db").exists()
    done = run(tmp_path, "validate", "--registry")
    assert done.returncode == 1 and not (tmp_path / "mlflow.db").exists()
    done = run(tmp_path, "apply", "--yes", env={"MLFLOW_TRACKING_URI": f"sqlite:///{missing}"})
    assert done.returncode == 1 and "no directory" in done.stderr and not (tmp_path / "no").exists()


def test_plan_in_a_directory_after_the_demo_points_at_the_demo_registry(tmp_path):
    (tmp_path / ".demo").mkdir()
    (tmp_path / ".demo" / "mlflow.db").write_bytes(b"")
    (tmp_path / "models").mkdir()
    done = run(tmp_path, "plan")
    assert done.returncode == 1 and "export MLFLOW_TRACKING_URI=sqlite:///$PWD/.demo/mlflow.db" in done.stderr


def test_control_and_bidirectional_characters_in_the_desired_state_are_refused(work):
    """A models/ file may not hold them (the YAML reader refuses its text); the JSON plan is checked
    string by string, so a forged plan cannot write them either."""

    def smuggle(d):
        d["desired"][0]["description"] = "Approved \u202eevil\u202c \x1b[2J"
        d["changes"] = [c for c in d["changes"] if c["address"]["field"] != "description"]

    done = run(work, "apply", edit(work, smuggle).name)
    assert done.returncode == 1, done.stderr
    assert "#/desired/0/description: bidirectional control character U+202E" in done.stderr
    assert untouched(work)


def test_a_summary_that_does_not_count_the_changes_and_unknown_keys_are_refused(work):
    data = json.loads((work / "plan.json").read_text())
    data["summary"] = {k: 0 for k in data["summary"]}  # outside the hash: a reader of the JSON is told "0 changes"
    (work / "edited.json").write_text(json.dumps(data))
    done = run(work, "apply", "edited.json")
    assert done.returncode == 1 and "summary does not count its changes" in done.stderr

    data = json.loads((work / "plan.json").read_text())
    data["approved_by"] = ["someone"]
    (work / "edited.json").write_text(json.dumps(data))
    done = run(work, "apply", "edited.json")
    assert done.returncode == 1 and "unknown key 'approved_by'" in done.stderr
    assert untouched(work)


def test_a_plan_nested_too_deeply_is_a_user_error(work):
    (work / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    done = run(work, "apply", "deep.json")
    assert done.returncode == 1 and "not a JSON plan (nested too deeply)" in done.stderr


def write_by_hand(work: Path, description: str) -> None:
    """A write by another process, as a killed apply or a person leaves it. In this process MLflow keeps
    one engine per URI, whose file the `work` fixture has since replaced (SQLite: "readonly database")."""
    script = (
        "import sys; from mlflow import MlflowClient; u = sys.argv[1]; "
        "MlflowClient(tracking_uri=u, registry_uri=u).update_registered_model('churn', description=sys.argv[2])"
    )
    uri = f"sqlite:///{work / 'mlflow.db'}"
    subprocess.run([sys.executable, "-c", script, uri, description], check=True, capture_output=True)


def test_a_saved_plan_whose_apply_stopped_half_way_is_finished_by_applying_it_again(work):
    """As the README's exit codes say: the description was written, then the apply was killed; applying
    the same saved plan again applies the rest. It said "the registry changed since this plan was made"."""
    write_by_hand(work, "reviewed")  # the first of the plan's writes
    done = run(work, "apply", "plan.json")
    assert done.returncode == 0, done.stderr
    script = (
        "import sys, json; from mlflow import MlflowClient; u = sys.argv[1]; "
        "c = MlflowClient(tracking_uri=u, registry_uri=u); m = c.get_registered_model('churn'); "
        "print(json.dumps([m.description, m.aliases, c.get_model_version('churn', '2').current_stage]))"
    )
    uri = f"sqlite:///{work / 'mlflow.db'}"
    out = subprocess.run([sys.executable, "-c", script, uri], check=True, capture_output=True, text=True).stdout
    assert json.loads(out.splitlines()[-1]) == ["reviewed", {"champion": 2}, "Production"]


def test_a_saved_plan_is_still_refused_when_the_registry_changed_otherwise(work):
    write_by_hand(work, "by hand")
    done = run(work, "apply", "plan.json")
    assert done.returncode == 1 and "the registry changed since this plan was made" in done.stderr, done.stderr


def test_the_apply_command_plan_out_suggests_is_quoted_and_after_dashes(work):
    """`--out 'my plan;rm x.json'` suggested a command that ran `rm x.json`; `--out -p.json` one that failed."""
    import shlex

    for name in ("my plan;rm x.json", "-p.json"):
        done = run(work, "plan", "--out", name)
        assert done.returncode == 0, done.stderr
        suggested = done.stdout.rsplit("Apply exactly it with: ", 1)[1].strip()
        assert shlex.split(suggested) == ["reconciler", "apply", "--", name], suggested
        applied = run(work, *shlex.split(suggested)[1:])  # as pasted
        assert applied.returncode == 0, applied.stderr
