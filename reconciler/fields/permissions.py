"""Registered-model permissions (MLflow basic auth): the read, check and write functions behind
the `permissions:` field declared in reconciler/fields/.

MLflow 3.17.2 keeps a user's direct grants in that user's own role (`__user_<id>__`) in the
workspace; its per-user API grants and revokes them (`/api/3.0/mlflow/users/permissions/grant`,
`.../revoke`), gated on MANAGE on the model. Its older per-model endpoints
(`/api/2.0/mlflow/registered-models/permissions/*`) are gone in 3.17.2.

The read is three calls, whatever the number of models, users or grants: who the reconciler is
(`users/current`), the users (`users/list`), and the workspace's roles with their grants
(`roles/list`). Only direct per-user grants on a model by name are managed; grants through roles
an admin made, and wildcard grants, are neither shown nor changed.

Every user's grants are diffed, the reconciler's own included, so a plan is the same whoever makes
it (the applying service user, a read-only drift user, a reviewer). The reconciler never lowers or
removes its own MANAGE: a file that would (naming it with less, or pruning it unnamed) is refused
in planning, with the place in the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

from reconciler.errors import DesiredStateError, RegistryError
from reconciler.state import frozen_map

if TYPE_CHECKING:
    from reconciler.fields import Fetched

CURRENT_USER = "/api/2.0/mlflow/users/current"
USERS = "/api/2.0/mlflow/users/list"
ROLES = "/api/3.0/mlflow/roles/list"
GRANT = "/api/3.0/mlflow/users/permissions/grant"
REVOKE = "/api/3.0/mlflow/users/permissions/revoke"
RESOURCE_TYPE = "registered_model"
WORKSPACE = "default"  # MLflow's DEFAULT_WORKSPACE_NAME: where grants live when workspaces are off
USER_ROLE = re.compile(r"__user_(\d+)__")  # MLflow's per-user role name


class Grant(str, Enum):
    """MLflow's permission names (mlflow.server.auth.permissions.ALL_PERMISSIONS)."""

    READ = "READ"
    USE = "USE"
    EDIT = "EDIT"
    MANAGE = "MANAGE"
    DENY = "DENY"
    NO_PERMISSIONS = "NO_PERMISSIONS"  # read only: 3.17.2 no longer grants it on a model


# What MLflow 3.17.2 grants on a registered model (RESOURCE_GRANTABLE_PERMISSIONS).
GRANTABLE = (Grant.READ, Grant.USE, Grant.EDIT, Grant.MANAGE, Grant.DENY)
USERNAME: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "maxLength": 255,  # MLflow's users.username column
    "pattern": r"^[^\x00-\x1f\x7f]+$",
}
SCHEMA: dict[str, Any] = {
    "description": "User -> permission on this registered model, as MLflow's basic auth names them: READ, "
    "USE, EDIT, MANAGE, or DENY (an explicit veto; NO_PERMISSIONS can no longer be granted on a model). "
    "Needs an MLflow server with basic auth, and users that exist there. Grants in the registry but not "
    "here are reported; removed only with policy.prune.permissions. The reconciler never lowers or removes "
    "its own MANAGE: with that prune, name its user here with MANAGE.",
    "type": "object",
    "propertyNames": USERNAME,
    "additionalProperties": {"enum": [g.value for g in GRANTABLE]},
}


@dataclass(frozen=True)
class Directory:
    """What a file's grants are checked against: the server's users, and who the reconciler is."""

    server: str
    me: str
    users: frozenset[str]


def read(raw: Mapping[str, Any]) -> Mapping[str, Grant]:
    """One model's grants, as `fetch` gathers them: {"grants": [{"username", "permission"}]}."""
    grants = {}
    for g in raw.get("grants", ()):
        try:
            grants[g["username"]] = Grant(g["permission"])
        except ValueError:
            raise RegistryError(
                f"the registry holds permission {g['permission']!r} for user {g['username']!r}, which this "
                "reconciler does not know (it follows MLflow 3.17.2); upgrade the reconciler"
            ) from None
    return frozen_map(grants)


def needs_server(names: Iterable[str], where: str) -> DesiredStateError:
    listed = sorted(names)
    shown = ", ".join(repr(n) for n in listed[:3]) + (f" and {len(listed) - 3} more" if len(listed) > 3 else "")
    return DesiredStateError(
        f"permissions: (set for model {shown}) need an MLflow server with basic auth, and {where}; "
        "set MLFLOW_TRACKING_URI to the server (http[s]://...) or remove permissions: from those files"
    )


def fetch(session: Any, names: Sequence[str]) -> Fetched:
    """The grants on the named models, and the Directory that `verify` checks files against."""
    from reconciler.fields import Fetched  # fields.py declares this module's field: imported late

    target = session.target
    if not target.is_http:
        raise needs_server(names, f"{target.describe()} is a database, not a server")
    me = _current_user(session, names)
    session.counter.add(2)
    users, grants = _direct_grants(session.rest)
    by_model: dict[str, list[dict[str, str]]] = {n: [] for n in names}
    for username, model, permission in grants:
        if model in by_model:
            by_model[model].append({"username": username, "permission": permission})
    values = {n: read({"grants": listed}) for n, listed in by_model.items()}
    return Fetched(values, Directory(target.describe(), me, frozenset(users)))


def _direct_grants(rest: Any) -> tuple[list[str], list[tuple[str, str, str]]]:
    """The server's users, and every per-user grant on a registered model by name, as
    (username, model, permission): two calls, whatever their number."""
    users = {int(u["id"]): str(u["username"]) for u in rest.get(USERS, {}).get("users", ())}
    grants = []
    for role in rest.get(ROLES, {"workspace": WORKSPACE}).get("roles", ()):
        match = USER_ROLE.fullmatch(str(role.get("name", "")))
        username = users.get(int(match.group(1))) if match else None
        if username is None:
            continue  # a role an admin made, or one whose user is gone
        for g in role.get("permissions", ()):
            if g.get("resource_type") == RESOURCE_TYPE and g.get("resource_pattern") != "*":
                grants.append((username, str(g["resource_pattern"]), str(g["permission"])))
    return list(users.values()), grants


def _current_user(session: Any, names: Sequence[str]) -> str:
    """Who the reconciler authenticates as; a server without MLflow's auth app answers 404."""
    import requests

    from reconciler.registry.rest import http_error

    session.counter.add()
    rest = session.rest
    try:
        answer = rest.session.get(rest.base + CURRENT_USER, timeout=rest.timeout)
    except requests.exceptions.RequestException as e:
        raise RegistryError(
            f"cannot reach the registry {rest.target.describe()} ({type(e).__name__}); check that the server is up"
        ) from None
    if answer.status_code == 404:
        raise needs_server(names, f"{rest.target.describe()} does not serve MLflow's auth API (HTTP 404)")
    if answer.status_code != 200:
        raise http_error(rest.target, answer.status_code, answer.text)
    try:
        return str(answer.json()["user"]["username"])
    except (ValueError, KeyError, TypeError):
        raise needs_server(names, f"{rest.target.describe()} answered {CURRENT_USER} without a user") from None


def verify(desired: Any, live: Any, directory: Directory) -> list[tuple[tuple[str, ...], str]]:
    """A file's grants against the server: users it knows, and the reconciler's own MANAGE."""
    wanted: Mapping[str, Grant] = desired.values["permissions"]
    problems = [
        (
            ("permissions", user),
            f"no user {user!r} on {directory.server}; the reconciler neither creates users nor handles "
            "passwords: ask an admin to create the user, or fix the name",
        )
        for user in wanted
        if user not in directory.users
    ]
    return problems + _own_manage(desired, live, directory.me)


def _own_manage(desired: Any, live: Any, me: str) -> list[tuple[tuple[str, ...], str]]:
    """The reconciler holds MANAGE on a model it manages (MLflow gives it to whoever creates one);
    a file must not take it away."""
    held = live.values.get("permissions", {}).get(me) if live is not None else Grant.MANAGE
    if held is not Grant.MANAGE:
        return []
    wanted: Mapping[str, Grant] = desired.values["permissions"]
    who = f"{me!r} is the user the reconciler authenticates as, and it never lowers or removes its own MANAGE"
    if me in wanted and wanted[me] is not Grant.MANAGE:
        return [(("permissions", me), f"{who}: set it to MANAGE or remove the entry")]
    if me not in wanted and "permissions" in desired.policy.prune:
        return [(("policy", "prune", "permissions"), f"{who}: name it in permissions ({me}: MANAGE)")]
    return []


def grant(clients: Any, address: Any, value: str) -> None:
    """Set the user's grant. One already there (a changed grant, or a retried request) is kept if it
    is the wanted one, else replaced: MLflow's per-user API has no update, so revoke, then grant."""
    rest = _rest(clients)
    body = _body(address)
    wanted = {**body, "permission": Grant(value).value}
    answer = _post(rest, GRANT, wanted)
    if _error_code(answer) == "RESOURCE_ALREADY_EXISTS":
        if _held(rest, address.key, address.model) is Grant(value):
            return
        _check(_post(rest, REVOKE, body), REVOKE, address, allow="RESOURCE_DOES_NOT_EXIST")
        answer = _post(rest, GRANT, wanted)
    _check(answer, GRANT, address)


def _held(rest: Any, username: str, model: str) -> Grant | None:
    """The user's direct grant on the model now (only asked when a grant is already there)."""
    held = [p for user, m, p in _direct_grants(rest)[1] if user == username and m == model]
    return Grant(held[0]) if held else None


def revoke(clients: Any, address: Any) -> None:
    """Remove the user's grant; one already gone is fine."""
    rest = _rest(clients)
    _check(_post(rest, REVOKE, _body(address)), REVOKE, address, allow="RESOURCE_DOES_NOT_EXIST")


def _rest(clients: Any) -> Any:
    if clients.rest is None:
        raise RegistryError("permissions need an MLflow server with basic auth; this registry is a database")
    return clients.rest


def _body(address: Any) -> dict[str, str]:
    return {"username": address.key, "resource_type": RESOURCE_TYPE, "resource_id": address.model}


def _post(rest: Any, endpoint: str, body: Mapping[str, str]) -> Any:
    """A broken connection raises as requests does, so the applier retries it or reports it unconfirmed."""
    return rest.session.post(rest.base + endpoint, json=body, timeout=rest.timeout)


def _error_code(answer: Any) -> str | None:
    if answer.status_code == 200:
        return None
    try:
        data = answer.json()
    except ValueError:
        return None
    return data.get("error_code") if isinstance(data, dict) else None


def _check(answer: Any, endpoint: str, address: Any, allow: str | None = None) -> None:
    """An error answer raises as MlflowClient's would (MLflow's own conversion), so the applier
    reports it like any other failed write."""
    if answer.status_code == 200 or (allow is not None and _error_code(answer) == allow):
        return
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import PERMISSION_DENIED
    from mlflow.utils.rest_utils import verify_rest_response

    if answer.status_code == 403:
        raise MlflowException(
            f"changing who may use model {address.model!r} needs MANAGE on it", error_code=PERMISSION_DENIED
        )
    verify_rest_response(answer, endpoint)
