"""The permissions field's own functions: its names against MLflow's, its checks of a file, its
writes' answers to what the server may say, and its read of MLflow's auth API payloads.

The writes and the read use doubles of the REST session made with `create_autospec` (the real
signatures: a misspelled call fails), answering with `requests.Response` objects shaped like what
`mlflow server` 3.17.2 answered in tests/integration/test_permissions.py, which covers the real
server end to end.
"""

from __future__ import annotations

import json
from unittest.mock import create_autospec

import pytest
import requests
from mlflow.server.auth.permissions import ALL_PERMISSIONS, RESOURCE_GRANTABLE_PERMISSIONS

from reconciler.apply.writer import Applier, Outcome
from reconciler.errors import DesiredStateError
from reconciler.fields import PERMISSIONS
from reconciler.fields import permissions as p
from reconciler.files.convert import from_document
from reconciler.plan.references import check_references
from reconciler.plan.values import Action, Address, Change
from reconciler.registry.clients import Clients
from reconciler.registry.rest import Rest
from reconciler.registry.session import Session
from reconciler.registry.target import Target
from reconciler.state import LiveModel, LiveState, Origin, frozen_map

SERVER = Target("http://registry", "http://registry", embedded=False)
DIRECTORY = p.Directory("http://registry", "reconciler", frozenset({"reconciler", "analyst", "bot"}))
LINES = {("permissions", "ghost"): 4, ("permissions", "reconciler"): 5, ("policy", "prune", "permissions"): 7}
# Shaped as `mlflow server` 3.17.2 answers users/list and roles/list (as seen against the integration stack).
USERS = {
    "users": [
        {"id": 1, "username": "admin", "is_admin": True, "roles": []},
        {"id": 2, "username": "reconciler", "is_admin": False, "roles": []},
        {"id": 3, "username": "analyst", "is_admin": False, "roles": []},
    ]
}


def _grant(permission: str, pattern: str, resource_type: str = "registered_model") -> dict:
    return {
        "id": 1,
        "permission": permission,
        "resource_pattern": pattern,
        "resource_type": resource_type,
        "role_id": 1,
    }


def _role(name: str, *grants: dict) -> dict:
    return {"id": 1, "name": name, "workspace": "default", "description": None, "permissions": list(grants)}


ROLES = {
    "roles": [
        _role("__user_2__", _grant("MANAGE", "churn")),
        _role(
            "__user_3__",
            _grant("READ", "churn"),
            _grant("EDIT", "*"),  # a wildcard grant: not this model's
            _grant("EDIT", "churn", "prompt"),  # a prompt of the same name
            _grant("READ", "other"),
        ),
        _role("data-team", _grant("MANAGE", "churn")),  # a role an admin made: not a user's own grant
        _role("__user_99__", _grant("READ", "churn")),  # a user that is gone
    ]
}


def answer(status: int, body: object = None, text: str | None = None) -> requests.Response:
    r = requests.Response()
    r.status_code = status
    r._content = (text if text is not None else json.dumps(body if body is not None else {})).encode()
    return r


def already() -> requests.Response:
    return answer(400, {"error_code": "RESOURCE_ALREADY_EXISTS", "message": "Permission for user=bot ... exists."})


def not_found() -> requests.Response:
    return answer(404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Permission for user=bot ... not found."})


def rest_double(posts: list[requests.Response], current: requests.Response | None = None):
    rest = create_autospec(Rest, instance=True)
    rest.target, rest.base, rest.timeout = SERVER, SERVER.registry_uri, 30.0
    rest.session = create_autospec(requests.Session, instance=True)
    rest.session.post.side_effect = posts
    ok = answer(200, {"user": {"id": 2, "username": "reconciler"}})
    rest.session.get.return_value = ok if current is None else current
    rest.get.side_effect = lambda endpoint, params: {p.USERS: USERS, p.ROLES: ROLES}[endpoint]
    return rest


def posted(rest) -> list[tuple[str, dict]]:
    return [(c.args[0].removeprefix(SERVER.registry_uri), c.kwargs["json"]) for c in rest.session.post.call_args_list]


def model(doc_permissions: dict, prune: bool = False):
    doc = {
        "name": "churn",
        "permissions": doc_permissions,
        **({"policy": {"prune": {"permissions": True}}} if prune else {}),
    }
    return from_document(doc, Origin("models/churn.yaml", LINES.get))


def live(grants: dict[str, str]) -> LiveModel:
    return LiveModel(
        "churn", {"permissions": p.read({"grants": [{"username": u, "permission": g} for u, g in grants.items()]})}
    )


def test_the_names_are_mlflows():
    assert {g.value for g in p.Grant} == set(ALL_PERMISSIONS)
    assert {g.value for g in p.GRANTABLE} == set(RESOURCE_GRANTABLE_PERMISSIONS)
    assert PERMISSIONS.schema["additionalProperties"]["enum"] == [g.value for g in p.GRANTABLE]


def test_the_read_takes_per_user_grants_on_models_by_name_only():
    session = Session(SERVER, _rest=rest_double([]))
    fetched = p.fetch(session, ["churn", "not-yet-registered"])
    assert fetched.values == {
        "churn": {"reconciler": p.Grant.MANAGE, "analyst": p.Grant.READ},
        "not-yet-registered": {},
    }
    assert fetched.context == p.Directory(
        "http://registry", "reconciler", frozenset({"admin", "reconciler", "analyst"})
    )
    assert session.counter.calls == 3  # users/current, users/list, roles/list: whatever the models or users


def test_a_database_is_refused_before_any_call():
    target = Target("sqlite:///m.db", "sqlite:///m.db", embedded=False)
    session = Session(target, _rest=rest_double([]))
    with pytest.raises(DesiredStateError) as info:
        p.fetch(session, ["b", "a", "c", "d"])
    assert str(info.value).startswith(
        "permissions: (set for model 'a', 'b', 'c' and 1 more) need an MLflow server with basic auth, and "
        "sqlite:///m.db is a database, not a server; set MLFLOW_TRACKING_URI"
    )
    assert session.counter.calls == 0


def test_a_server_without_its_auth_app_is_refused():
    rest = rest_double([], current=answer(404, text="<!doctype html><title>404 Not Found</title>"))
    session = Session(SERVER, _rest=rest)
    with pytest.raises(DesiredStateError, match=r"http://registry does not serve MLflow's auth API \(HTTP 404\)"):
        p.fetch(session, ["churn"])


def test_unknown_users_are_named_with_their_line_and_pointer():
    state = LiveState(
        frozen_map({"churn": live({"reconciler": "MANAGE"})}), context=frozen_map({"permission": DIRECTORY})
    )
    (error,) = check_references([model({"analyst": "READ", "ghost": "EDIT"})], state, changed_only=True)
    assert str(error).startswith("models/churn.yaml:4: /permissions/ghost: no user 'ghost' on http://registry; ")


@pytest.mark.parametrize(
    ("grants", "prune", "where"),
    [
        ({"reconciler": "READ"}, False, "5: /permissions/reconciler"),
        ({"reconciler": "DENY"}, False, "5: /permissions/reconciler"),
        ({"analyst": "READ"}, True, "7: /policy/prune/permissions"),
    ],
)
def test_the_reconcilers_own_manage_is_never_lowered_or_pruned(grants, prune, where):
    for held in ({"reconciler": "MANAGE"}, None):  # a model it will create: MLflow gives its creator MANAGE
        models = {"churn": live(held)} if held else {}
        state = LiveState(frozen_map(models), context=frozen_map({"permission": DIRECTORY}))
        (error,) = check_references([model(grants, prune)], state, changed_only=True)
        assert str(error).startswith(f"models/churn.yaml:{where}: 'reconciler' is the user the reconciler"), error


def test_naming_its_own_manage_or_not_holding_manage_is_fine():
    state = LiveState(
        frozen_map({"churn": live({"reconciler": "MANAGE"})}), context=frozen_map({"permission": DIRECTORY})
    )
    assert not check_references([model({"reconciler": "MANAGE"}, prune=True)], state, changed_only=True)
    assert not check_references([model({"analyst": "READ"})], state, changed_only=True)  # reported, not pruned
    reader = LiveState(
        frozen_map({"churn": live({"reconciler": "READ"})}), context=frozen_map({"permission": DIRECTORY})
    )
    assert not check_references([model({"analyst": "READ"}, prune=True)], reader, changed_only=True)


def change(action: Action, after: str | None = None) -> Change:
    return Change(Address("churn", None, "permission", "bot"), action, None, after)


def test_a_grant_is_one_call():
    rest = rest_double([answer(200)])
    (result,) = Applier(Clients(None, rest), SERVER, 1).run([change(Action.CREATE, "EDIT")])
    assert result.ok
    body = {"username": "bot", "resource_type": "registered_model", "resource_id": "churn", "permission": "EDIT"}
    assert posted(rest) == [(p.GRANT, body)]


def test_a_changed_grant_is_revoked_then_granted():
    rest = rest_double([already(), answer(200), answer(200)])  # bot holds READ (not in USERS: treated as none)
    (result,) = Applier(Clients(None, rest), SERVER, 1).run([change(Action.UPDATE, "EDIT")])
    assert result.ok
    assert [endpoint for endpoint, _ in posted(rest)] == [p.GRANT, p.REVOKE, p.GRANT]


def test_a_grant_already_as_wanted_is_left_as_it_is():
    """The reconciler's own MANAGE on a model it just created: revoking it first would lock it out."""
    rest = rest_double([already()])
    done = Applier(Clients(None, rest), SERVER, 1).run(
        [Change(Address("churn", None, "permission", "reconciler"), Action.CREATE, None, "MANAGE")]
    )
    assert done[0].ok and [endpoint for endpoint, _ in posted(rest)] == [p.GRANT]


def test_a_grant_already_revoked_is_fine():
    rest = rest_double([not_found()])
    (result,) = Applier(Clients(None, rest), SERVER, 1).run([change(Action.DELETE)])
    assert result.ok and [endpoint for endpoint, _ in posted(rest)] == [p.REVOKE]


def test_without_manage_the_write_fails_with_what_to_do():
    rest = rest_double([answer(403, text="Permission denied")])
    (result,) = Applier(Clients(None, rest), SERVER, 1).run([change(Action.CREATE, "READ")])
    assert result.outcome is Outcome.FAILED
    assert "denied permission (HTTP 403): changing who may use model 'churn' needs MANAGE on it" in result.error


def test_an_unknown_user_at_write_time_fails_with_the_servers_message():
    rest = rest_double(
        [answer(404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "User with username=bot not found"})]
    )
    (result,) = Applier(Clients(None, rest), SERVER, 1).run([change(Action.CREATE, "READ")])
    assert (
        result.outcome is Outcome.FAILED and "RESOURCE_DOES_NOT_EXIST: User with username=bot not found" in result.error
    )


def test_a_broken_connection_is_retried_then_reported_unconfirmed():
    rest = rest_double([requests.exceptions.ConnectionError("Connection aborted")] * 3)
    (result,) = Applier(Clients(None, rest), SERVER, 1).run([change(Action.CREATE, "READ")])
    assert result.outcome is Outcome.UNCONFIRMED and len(posted(rest)) == 3


def test_an_nfc_and_an_nfd_user_name_are_told_apart_in_the_rendered_plan():
    """MLflow keeps `josé` (NFC) and `jose\\u0301` (NFD) as two users; the plan showed both as
    `permissions[josé]`, so granting one and reporting the other read as one user twice."""
    import io
    import unicodedata

    from rich.console import Console

    from reconciler.plan import render
    from reconciler.plan.builder import build_plan

    nfc, nfd = unicodedata.normalize("NFC", "jos\u00e9"), unicodedata.normalize("NFD", "jos\u00e9")
    model = from_document({"name": "m", "permissions": {nfc: "READ"}}, Origin("models/m.yaml"))
    live = LiveState(frozen_map({"m": LiveModel("m", {"permissions": frozen_map({nfd: "EDIT"})})}))
    plan = build_plan([model], live)
    assert {(c.address.key, c.action) for c in plan.changes} == {(nfc, Action.CREATE)}
    assert [n.address.key for n in plan.notes] == [nfd]

    console = Console(file=io.StringIO(), width=200, color_system=None)
    render.to_text(plan, console)
    text = console.file.getvalue()
    assert f"permission[{nfc}] = 'READ'" in text and "m permission[jose\\u0301]: in the registry" in text
    markdown = render.to_markdown(plan)
    assert "jos\u00e9" in markdown and "jose&#92;u0301" in markdown and nfd not in markdown
