"""The registry lock against `mlflow server` (basic auth, PostgreSQL), with real contender processes.

One test also has an applier that reaches the same registry by its database URI
(`postgresql://`), through a TCP proxy the test can freeze: a network partition between that
applier and the registry, while the others still reach it through the server.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from urllib.parse import urlsplit

import pytest

from reconciler.apply.lock import LockSettings, RegistryLock, default_owner
from reconciler.apply.tickets import RELEASED, STATE_TAG
from reconciler.errors import LockError
from tests.integration.conftest import REPO, Stack, grant
from tests.support import lock_scenarios as scenarios
from tests.support import secrets_scan
from tests.support.services import free_port, wait_until

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class ProxiedDatabase:
    uri: str  # postgresql://… through the proxy
    proxy: subprocess.Popen


@pytest.fixture(scope="module")
def admin(live_stack: Stack) -> Iterator[None]:
    """This process (setup and checks) talks to the registry as the admin."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_USERNAME", "admin")
        mp.setenv("MLFLOW_TRACKING_PASSWORD", live_stack.server.admin_password)
        yield


@pytest.fixture
def proxied_database(live_stack: Stack) -> Iterator[ProxiedDatabase]:
    """The server's own database, through tests/support/proxy.py."""
    db = urlsplit(live_stack.server.env["MLFLOW_BACKEND_STORE_URI"])
    port = free_port()
    proxy = subprocess.Popen([sys.executable, "-m", "tests.support.proxy", str(port), str(db.port)], cwd=REPO)
    try:
        wait_until(lambda: socket.create_connection(("127.0.0.1", port), 1).close() is None, "proxy", 20, proxy)
        netloc = db.netloc.rsplit(":", 1)[0] + f":{port}"
        yield ProxiedDatabase(db._replace(netloc=netloc).geturl(), proxy)
    finally:
        proxy.send_signal(signal.SIGCONT)
        proxy.kill()
        proxy.wait(10)


@pytest.fixture
def registry(live_stack: Stack, admin: None) -> Iterator[scenarios.Registry]:
    """The session's server; every test has its own lock model. Contenders are the
    'reconciler' user (the first one creates the lock model, and so may manage it)."""
    from mlflow import MlflowClient

    uri = live_stack.server.uri
    model = f"gitops.lock-{uuid.uuid4().hex[:8]}"
    share = partial(grant, live_stack, user="reconciler", permission="EDIT")
    reg = scenarios.Registry(uri, live_stack.env("reconciler"), MlflowClient(uri, uri), model, share=share)
    yield reg
    reg.close()


def test_contenders_never_overlap_and_race_safely_to_create_the_lock(registry, tmp_path):
    scenarios.mutual_exclusion(registry, tmp_path, procs=4, rounds=2)


def test_held_lock_times_out_refuses_and_passes_on_after_the_holder_is_killed(registry):
    scenarios.held_lock(registry)


def test_each_ticket_is_judged_by_the_ttl_its_holder_recorded(registry):
    scenarios.different_ttls(registry)


def test_a_holder_stopped_past_its_ttl_loses_the_lock_before_its_next_write(registry):
    scenarios.stopped(registry)


def test_holder_cut_off_from_the_database_is_told_before_its_next_write(
    live_stack, registry, proxied_database, tmp_path
):
    """The holder uses the database URI through the proxy, which freezes (SIGSTOP): its
    heartbeats hang. A waiter using the server takes over after the ttl; the proxy thaws after."""
    with RegistryLock(registry.client, default_owner("admin"), model=registry.model).acquire(5):
        pass  # the lock model exists (a database URI bypasses the server's permissions) ...
    grant(live_stack, registry.model, "reconciler", "MANAGE")  # ... and the waiter may use it
    scenarios.lost_when_unreachable(
        registry,
        tmp_path,
        lambda: proxied_database.proxy.send_signal(signal.SIGSTOP),
        lambda: proxied_database.proxy.send_signal(signal.SIGCONT),
        holder_uri=proxied_database.uri,
        takeover=True,
    )


def test_hostile_owner_strings_fit_postgresql_and_stay_on_one_line(registry):
    scenarios.hostile_owner(registry)


@pytest.fixture
def back_to_admin(live_stack: Stack) -> Iterator[None]:
    yield
    as_user(live_stack, "admin", live_stack.server.admin_password)


def test_permissions_the_lock_needs(live_stack, registry, back_to_admin):
    """The user that creates the lock model gets MANAGE on it; others need a grant: EDIT to take
    tickets (released ones are then tagged, as EDIT may not delete versions), MANAGE to delete."""
    from mlflow.server import get_app_client

    auth = get_app_client("basic-auth", tracking_uri=registry.uri)
    users = {role: f"lock-{role}-{uuid.uuid4().hex[:6]}" for role in ("editor", "manager")}
    passwords = {role: os.urandom(12).hex() for role in users}
    secrets_scan.register(*passwords.values())
    for role, user in users.items():
        auth.create_user(user, passwords[role])

    as_user(live_stack, "reconciler", live_stack.reconciler_password)
    first = lock_as(registry, "reconciler")
    first.acquire(5).release()
    assert first.created_model
    assert auth.get_user_permission("reconciler", "registered_model", registry.model).permission == "MANAGE"

    as_user(live_stack, users["editor"], passwords["editor"])
    refused = rf"refused a lock ticket on the registered model '{registry.model}' \(HTTP 403\); ask an admin"
    with pytest.raises(LockError, match=refused):
        lock_as(registry, "editor").acquire(5)

    as_user(live_stack, "admin", live_stack.server.admin_password)
    auth.grant_user_permission(users["editor"], "registered_model", registry.model, "EDIT")
    auth.grant_user_permission(users["manager"], "registered_model", registry.model, "MANAGE")
    as_user(live_stack, users["editor"], passwords["editor"])
    editor = lock_as(registry, "editor")
    edited = editor.acquire(5)
    edited.release()
    assert edited.release_warning is None
    assert editor.calls == 4  # ticket, one look; release: delete refused (403), so tag it released
    as_user(live_stack, "admin", live_stack.server.admin_password)
    left = registry.client.get_model_version(registry.model, str(edited.number))
    assert left.tags[STATE_TAG] == RELEASED and registry.live() == []

    as_user(live_stack, users["manager"], passwords["manager"])
    managed = lock_as(registry, "manager").acquire(5)
    managed.release()
    as_user(live_stack, "admin", live_stack.server.admin_password)
    assert registry.versions() == [edited.number]  # the manager's ticket was deleted


def as_user(live_stack: Stack, user: str, password: str) -> None:
    os.environ["MLFLOW_TRACKING_USERNAME"], os.environ["MLFLOW_TRACKING_PASSWORD"] = user, password


def lock_as(registry: scenarios.Registry, actor: str) -> RegistryLock:
    quiet = LockSettings(ttl=60, margin=20)  # no heartbeat in between: the user switches are safe
    return RegistryLock(registry.client, default_owner(actor), quiet, "the test server", registry.model)
