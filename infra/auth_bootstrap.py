"""Migrate MLflow's auth database and set its admin account, once, before the servers start.

Run by the migration Job (Kubernetes) or container (Docker) after `mlflow db upgrade`, inside the
server image (infra/Dockerfile copies it to /opt/mlflow-registry/). Without it, every server pod
migrates the auth database at its first start, concurrently, and MLflow never changes the
password of an admin that exists, so a rotated admin password would not apply.

Environment (from Secrets):
  MLFLOW_AUTH_DATABASE_URI                               the auth database (basic_auth.ini's database_uri)
  MLFLOW_AUTH_ADMIN_USERNAME, MLFLOW_AUTH_ADMIN_PASSWORD  the admin: created, or its password reset
  MLFLOW_SERVING_USERNAME, MLFLOW_SERVING_PASSWORD (optional) the scoring servers' non-admin reader
  MLFLOW_AUTH_CONFIG_PATH (optional)                     write basic_auth.ini there (mode 0600), for
                                                         a server that mounts it read-only (Docker)

Stand-alone on purpose (only MLflow is imported): the image does not contain this repository.
Exit code 0 when done, 1 with a one-line message on stderr otherwise.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Account:
    username: str
    password: str
    admin: bool


def accounts_from_env(env: dict[str, str]) -> list[Account]:
    accounts = [
        Account(_required(env, "MLFLOW_AUTH_ADMIN_USERNAME"), _required(env, "MLFLOW_AUTH_ADMIN_PASSWORD"), True)
    ]
    if env.get("MLFLOW_METRICS_USERNAME"):
        accounts.append(Account(env["MLFLOW_METRICS_USERNAME"], _required(env, "MLFLOW_METRICS_PASSWORD"), False))
    if env.get("MLFLOW_SERVING_USERNAME"):  # the scoring servers' downloads: non-admin, so READ only
        accounts.append(Account(env["MLFLOW_SERVING_USERNAME"], _required(env, "MLFLOW_SERVING_PASSWORD"), False))
    if len({a.username for a in accounts}) != len(accounts):
        raise SystemExit("auth bootstrap: the metrics and serving accounts must not be the admin account")
    return accounts


def _required(env: dict[str, str], key: str) -> str:
    value = env.get(key, "")
    if not value:
        raise SystemExit(f"auth bootstrap: {key} is not set (it comes from the mlflow-auth Secret)")
    return value


def ensure(store, account: Account) -> str:
    """Create the account, or bring its password and admin flag to the configured ones."""
    if not store.has_user(account.username, use_primary=True):
        store.create_user(account.username, account.password, is_admin=account.admin)
        return "created"
    changed = []
    if not store.authenticate_user(account.username, account.password, use_primary=True):
        store.update_user(account.username, password=account.password)
        changed.append("password")
    if store.get_user(account.username).is_admin != account.admin:
        store.update_user(account.username, is_admin=account.admin)
        changed.append("admin flag")
    return "updated " + " and ".join(changed) if changed else "unchanged"


def write_config(path: str, text: str) -> None:
    """Atomically, readable by this user only: the file holds the database password."""
    directory, name = os.path.split(path)
    temporary = os.path.join(directory, f".{name}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def main(env: dict[str, str]) -> int:
    uri = _required(env, "MLFLOW_AUTH_DATABASE_URI")
    accounts = accounts_from_env(env)
    if env.get("MLFLOW_AUTH_CONFIG_PATH"):
        # First: importing mlflow.server.auth reads this file (and fails without its [mlflow] section).
        write_config(env["MLFLOW_AUTH_CONFIG_PATH"], auth_config_ini(uri))
        print(f"auth bootstrap: wrote {env['MLFLOW_AUTH_CONFIG_PATH']}", flush=True)
    from mlflow.server.auth.sqlalchemy_store import SqlAlchemyStore

    store = SqlAlchemyStore()
    store.init_db(uri)  # runs the auth database's migrations (alembic) up to head
    for account in accounts:
        print(f"auth bootstrap: user {account.username!r} {ensure(store, account)}", flush=True)
    store.engine.dispose()
    return 0


def auth_config_ini(database_uri: str, default_permission: str = "READ", cache_ttl_seconds: int = 30) -> str:
    """basic_auth.ini: the auth app's users and permissions live in `database_uri` (PostgreSQL in
    production). The admin password is not here: it comes from MLFLOW_AUTH_ADMIN_PASSWORD.

    `auth_cache_ttl_seconds`: MLflow checks the PBKDF2 password hash on every request unless this
    is set; measured here that costs ~0.5 s per request (bench/registry_bench.py). With the cache,
    a changed or revoked password can keep working on other replicas for up to this many seconds.
    """
    return (
        "[mlflow]\n"
        f"default_permission = {default_permission}\n"
        f"database_uri = {database_uri}\n"
        "admin_username = admin\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
        f"auth_cache_ttl_seconds = {cache_ttl_seconds}\n"
        "auth_cache_max_size = 10000\n"
    )


if __name__ == "__main__":
    try:
        sys.exit(main(dict(os.environ)))
    except Exception as error:  # one line for the Job's log; the exit code fails the Job
        first_line = (str(error).strip().splitlines() or [""])[0][:500]
        print(f"auth bootstrap failed: {type(error).__name__}: {first_line}", file=sys.stderr)
        sys.exit(1)
