"""Registered-model permissions end to end, against `mlflow server` with basic auth (default
permission READ): the CLI as a subprocess, and each user's own requests to prove what a grant lets
them do. Tests run in order and share one model: a scenario, step by step.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from tests.integration.conftest import Stack, run_cli
from tests.support import secrets_scan
from tests.support.services import stack

pytestmark = pytest.mark.integration

MODEL = "it-perm"
USERS = ("analyst", "bot", "ops")
FILE = f"models/{MODEL}.yaml"


def _api(s: Stack, method: str, endpoint: str, auth: tuple[str, str], **kwargs: Any) -> requests.Response:
    return requests.request(method, s.server.uri + endpoint, auth=auth, timeout=60, **kwargs)


def _admin(s: Stack) -> tuple[str, str]:
    return ("admin", s.server.admin_password)


@pytest.fixture(scope="module")
def perm(live_stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Three more users, made by the admin (the reconciler never creates users)."""
    passwords = {u: os.urandom(12).hex() for u in USERS}
    secrets_scan.register(*passwords.values())
    for user, password in passwords.items():
        made = _api(
            live_stack,
            "POST",
            "/api/2.0/mlflow/users/create",
            _admin(live_stack),
            json={"username": user, "password": password},
        )
        assert made.status_code == 200, made.text
    root = tmp_path_factory.mktemp("perm")
    (root / "models").mkdir()
    return {"root": root, "passwords": passwords}


def write(perm: dict, text: str, name: str = MODEL) -> None:
    (perm["root"] / "models" / f"{name}.yaml").write_text(f"name: {name}\n{text}")


def cli(s: Stack, perm: dict, *args: str, env: dict[str, str] | None = None):
    return run_cli(list(args), env or s.env(), perm["root"])


def as_user(s: Stack, perm: dict, user: str) -> tuple[str, str]:
    return (user, perm["passwords"][user])


def direct_grants(s: Stack, model: str) -> dict[str, str]:
    """Every user's direct grant on the model, as the admin sees them."""
    users = _api(s, "GET", "/api/2.0/mlflow/users/list", _admin(s)).json()["users"]
    return {
        u["username"]: p["permission"]
        for u in users
        for role in u["roles"]
        if role["name"] == f"__user_{u['id']}__"
        for p in role["permissions"]
        if p["resource_type"] == "registered_model" and p["resource_pattern"] == model
    }


def _model(s: Stack, name: str) -> requests.Response:
    return _api(s, "GET", "/api/2.0/mlflow/registered-models/get", _admin(s), params={"name": name})


def can_read(s: Stack, auth: tuple[str, str]) -> int:
    return _api(s, "GET", "/api/2.0/mlflow/registered-models/get", auth, params={"name": MODEL}).status_code


def can_tag(s: Stack, auth: tuple[str, str]) -> int:
    body = {"name": MODEL, "key": "touched_by", "value": auth[0]}
    return _api(s, "POST", "/api/2.0/mlflow/registered-models/set-tag", auth, json=body).status_code


def can_register(s: Stack, auth: tuple[str, str]) -> requests.Response:
    body = {"name": MODEL, "source": "s3://mlflow/artifacts/bot-model"}
    return _api(s, "POST", "/api/2.0/mlflow/model-versions/create", auth, json=body)


def test_the_file_creates_the_model_with_its_grants(live_stack, perm):
    write(perm, "description: grants as code\npermissions: {analyst: DENY}\n")
    done = cli(live_stack, perm, "apply", "--yes")
    assert done.returncode == 0, done.stderr
    assert direct_grants(live_stack, MODEL) == {"reconciler": "MANAGE", "analyst": "DENY"}
    assert can_read(live_stack, as_user(live_stack, perm, "analyst")) == 403  # DENY beats the default READ
    assert can_read(live_stack, as_user(live_stack, perm, "bot")) == 200  # the server's default: READ
    assert can_register(live_stack, as_user(live_stack, perm, "bot")).status_code == 403


def test_plan_shows_grant_changes_and_reports_unnamed_grants(live_stack, perm):
    hand = {"username": "ops", "resource_type": "registered_model", "resource_id": MODEL, "permission": "READ"}
    made = _api(live_stack, "POST", "/api/3.0/mlflow/users/permissions/grant", _admin(live_stack), json=hand)
    assert made.status_code == 200, made.text  # granted by hand, not in the file
    write(perm, "description: grants as code\npermissions: {analyst: READ, bot: EDIT}\n")
    done = cli(live_stack, perm, "plan", "--detailed-exitcode", "--out", "plan.json")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "~ permission[analyst]: 'DENY' -> 'READ'" in done.stdout
    assert "+ permission[bot] = 'EDIT'" in done.stdout
    assert (
        f"? {MODEL} permission[ops]: in the registry, not in the file (= 'READ'); left alone unless "
        "policy.prune.permissions opts in"
    ) in done.stdout
    # Its own MANAGE (MLflow gave it to the model's creator) is a grant like any other: reported.
    assert "permission[reconciler]: in the registry, not in the file (= 'MANAGE')" in done.stdout


def test_apply_gives_each_user_what_the_file_says(live_stack, perm):
    done = cli(live_stack, perm, "apply", "plan.json", "--commit", "perm1")
    assert done.returncode == 0, done.stderr
    assert direct_grants(live_stack, MODEL) == {"reconciler": "MANAGE", "analyst": "READ", "bot": "EDIT", "ops": "READ"}
    analyst = as_user(live_stack, perm, "analyst")
    assert can_read(live_stack, analyst) == 200  # READ: can read now (DENY was lifted)...
    assert can_tag(live_stack, analyst) == 403  # ...and cannot write
    registered = can_register(live_stack, as_user(live_stack, perm, "bot"))
    assert registered.status_code == 200, registered.text  # EDIT: registers a version
    assert registered.json()["model_version"]["version"] == "1"


def test_the_audit_record_names_the_permission_changes(live_stack, perm):
    tags = _model(live_stack, MODEL)
    record = json.loads({t["key"]: t["value"] for t in tags.json()["registered_model"]["tags"]}["gitops.audit"])
    assert record["commit"] == "perm1"
    assert "~ permission[analyst]: 'DENY' -> 'READ'" in record["changes"]
    assert "+ permission[bot]: None -> 'EDIT'" in record["changes"]


def test_apply_then_plan_is_empty(live_stack, perm):
    done = cli(live_stack, perm, "plan", "--detailed-exitcode")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "permission[ops]: in the registry, not in the file" in done.stdout  # still reported


def test_lowering_or_pruning_the_reconcilers_own_manage_is_refused(live_stack, perm):
    write(perm, "description: changed\npermissions: {analyst: READ, bot: EDIT, reconciler: READ}\n")
    done = cli(live_stack, perm, "apply", "--yes")
    assert done.returncode == 1
    expected = f"error: {FILE}:3: /permissions/reconciler: 'reconciler' is the user the reconciler authenticates as"
    assert expected in done.stderr and "never lowers or removes its own MANAGE" in done.stderr, done.stderr
    write(perm, "description: changed\npermissions: {analyst: READ}\npolicy: {prune: {permissions: true}}\n")
    done = cli(live_stack, perm, "apply", "--yes")
    assert done.returncode == 1
    assert f"error: {FILE}:4: /policy/prune/permissions: 'reconciler' is the user" in done.stderr, done.stderr
    assert "name it in permissions (reconciler: MANAGE)" in done.stderr
    assert direct_grants(live_stack, MODEL)["reconciler"] == "MANAGE"
    assert "changed" not in _model(live_stack, MODEL).text  # nothing was written


def test_prune_removes_unnamed_grants(live_stack, perm):
    write(perm, "permissions: {analyst: READ, bot: EDIT, reconciler: MANAGE}\npolicy: {prune: {permissions: true}}\n")
    plan = cli(live_stack, perm, "plan")
    assert "- permission[ops] (was 'READ')   (policy.prune)" in plan.stdout, plan.stdout + plan.stderr
    assert "Plan: 0 to add, 0 to change, 1 to remove." in plan.stdout
    done = cli(live_stack, perm, "apply", "--yes")
    assert done.returncode == 0, done.stderr
    assert direct_grants(live_stack, MODEL) == {"reconciler": "MANAGE", "analyst": "READ", "bot": "EDIT"}
    again = cli(live_stack, perm, "plan", "--detailed-exitcode")
    assert again.returncode == 0, again.stdout + again.stderr


def test_an_unknown_user_is_refused_before_anything_is_written(live_stack, perm):
    write(
        perm,
        "description: never created\ntags: {team: x}\npermissions:\n  analyst: READ\n  ghost: EDIT\n",
        "it-perm-new",
    )
    done = cli(live_stack, perm, "apply", "--yes")
    assert done.returncode == 1
    line = f"error: models/it-perm-new.yaml:6: /permissions/ghost: no user 'ghost' on {live_stack.server.uri}; "
    assert line in done.stderr, done.stderr
    assert "neither creates users nor handles passwords" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert _model(live_stack, "it-perm-new").status_code == 404  # the model was not created either
    validate = cli(live_stack, perm, "validate")
    assert validate.returncode == 1 and "no user 'ghost'" in validate.stderr
    (perm["root"] / "models" / "it-perm-new.yaml").unlink()


def test_a_new_model_gets_its_grants_in_the_same_apply(live_stack, perm):
    write(perm, "permissions: {ops: USE, reconciler: MANAGE}\n", "it-perm-new")  # MLflow gives it MANAGE on create
    done = cli(live_stack, perm, "apply", "--yes")
    assert done.returncode == 0, done.stderr
    assert direct_grants(live_stack, "it-perm-new") == {"reconciler": "MANAGE", "ops": "USE"}
    assert cli(live_stack, perm, "plan", "--detailed-exitcode").returncode == 0


def test_the_read_is_three_calls_whatever_the_number_of_models(live_stack, perm, monkeypatch):
    from reconciler import engine
    from reconciler.registry.session import Session
    from reconciler.registry.target import Target

    for k, v in live_stack.env().items():
        if k.startswith("MLFLOW_TRACKING_"):
            monkeypatch.setenv(k, v)
    target = Target(live_stack.server.uri, live_stack.server.uri, embedded=False)
    desired = engine.load(perm["root"] / "models")
    calls = []
    for files in (desired[:1], desired, []):
        session = Session(target)
        session.read(files)
        calls.append(session.counter.calls)
    assert len(desired) == 2
    assert calls[0] == calls[1] == calls[2] + 3, calls


def test_a_database_uri_cannot_hold_permissions(live_stack, perm):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env["MLFLOW_TRACKING_URI"] = live_stack.server.env["MLFLOW_BACKEND_STORE_URI"]
    done = cli(live_stack, perm, "plan", env=env)
    assert done.returncode == 1
    assert done.stderr.startswith(
        "error: permissions: (set for model 'it-perm', 'it-perm-new') need an MLflow server with basic auth"
    )
    assert "://mlflow:***@" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert urlsplit(env["MLFLOW_TRACKING_URI"]).password not in done.stderr


def test_a_server_without_basic_auth_cannot_hold_permissions(perm):
    with tempfile.TemporaryDirectory(prefix="mlflow-noauth-") as tmp, stack(Path(tmp), auth=False) as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
        env["MLFLOW_TRACKING_URI"] = server.uri
        created = requests.post(
            server.uri + "/api/2.0/mlflow/registered-models/create", json={"name": MODEL}, timeout=60
        )
        assert created.status_code == 200, created.text
        done = run_cli(["plan"], env, perm["root"])
    assert done.returncode == 1
    assert "need an MLflow server with basic auth" in done.stderr
    assert "does not serve MLflow's auth API (HTTP 404)" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_the_plan_is_the_same_whoever_makes_it(live_stack, perm):
    """Drift detection plans as a read-only user. MLflow lists a workspace's roles only to users
    with a role there: without any grant, a one-line 403; once the file gives it READ, its plan is
    the reconciler's plan (its own grant is diffed like everyone's)."""
    reader = live_stack.env("reader")
    denied = cli(live_stack, perm, "plan", env=reader)
    assert denied.returncode == 1 and "denied permission (HTTP 403)" in denied.stderr, denied.stderr
    assert len(denied.stderr.strip().splitlines()) == 1
    text = "permissions: {analyst: READ, bot: EDIT, reconciler: MANAGE, reader: READ}\n"
    write(perm, text + "policy: {prune: {permissions: true}}\n")
    assert cli(live_stack, perm, "apply", "--yes").returncode == 0
    for env in (reader, live_stack.env()):
        done = cli(live_stack, perm, "plan", "--detailed-exitcode", env=env)
        assert done.returncode == 0, done.stdout + done.stderr
