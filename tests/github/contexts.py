"""The `github` and `runner` contexts and the default environment variables of a job, from the event."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .events import Event

PR_EVENTS = ("pull_request", "pull_request_review", "pull_request_review_comment")
RESTRICTED_DEFAULT = {"contents": "read", "packages": "read", "metadata": "read"}
ALL_SCOPES = (
    "actions", "attestations", "checks", "contents", "deployments", "discussions", "id-token", "issues",
    "models", "packages", "pages", "pull-requests", "repository-projects", "security-events", "statuses",
)  # fmt: skip


@dataclass(frozen=True)
class RunInfo:
    """What the run knows besides the event: where it runs and who it is."""

    workflow_path: str  # .github/workflows/x.yml
    workflow_name: str
    repository: str  # owner/name
    repository_id: int
    workspace: Path
    temp: Path
    api_url: str
    server_url: str = "https://github.com"
    run_id: int = 1_000_001
    run_number: int = 1
    run_attempt: int = 1


def from_fork(event: Event) -> bool:
    """A pull request event whose head repository is not the base one: GitHub withholds secrets."""
    pr = event.payload.get("pull_request")
    if event.name not in PR_EVENTS or not pr:
        return False
    head = (pr.get("head") or {}).get("repo") or {}
    return head.get("full_name") != pr["base"]["repo"]["full_name"]


def github_context(event: Event, run: RunInfo, job_id: str, token: str, event_path: Path) -> dict[str, Any]:
    ref_name = (
        event.ref.split("/", 2)[-1]
        if event.ref.startswith(("refs/heads/", "refs/tags/"))
        else event.ref.removeprefix("refs/")
    )
    owner = run.repository.split("/")[0]
    return {
        "action": "",
        "actor": event.actor,
        "api_url": run.api_url,
        "base_ref": event.base_ref,
        "event": event.payload,
        "event_name": event.name,
        "event_path": str(event_path),
        "graphql_url": f"{run.api_url}/graphql",
        "head_ref": event.head_ref,
        "job": job_id,
        "ref": event.ref,
        "ref_name": ref_name,
        "ref_protected": False,
        "ref_type": "tag" if event.ref.startswith("refs/tags/") else "branch",
        "repository": run.repository,
        "repository_id": str(run.repository_id),
        "repository_owner": owner,
        "repositoryUrl": f"git://github.com/{run.repository}.git",
        "retention_days": "90",
        "run_attempt": str(run.run_attempt),
        "run_id": str(run.run_id),
        "run_number": str(run.run_number),
        "secret_source": "Actions",
        "server_url": run.server_url,
        "sha": event.sha,
        "token": token,
        "triggering_actor": event.actor,
        "workflow": run.workflow_name,
        "workflow_ref": f"{run.repository}/{run.workflow_path}@{event.ref}",
        "workflow_sha": event.sha,
        "workspace": str(run.workspace),
    }


def runner_context(run: RunInfo) -> dict[str, Any]:
    return {
        "arch": "X64",
        "debug": "",
        "environment": "github-hosted",
        "name": "GitHub Actions 1",
        "os": "Linux",
        "temp": str(run.temp),
        "tool_cache": str(run.temp / "toolcache"),
    }


def default_env(github: Mapping[str, Any], runner: Mapping[str, Any]) -> dict[str, str]:
    """The GITHUB_* and RUNNER_* variables every step sees (GITHUB_TOKEN is not one of them)."""
    env = {
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_RETENTION_DAYS": "90",
        "RUNNER_OS": runner["os"],
        "RUNNER_ARCH": runner["arch"],
        "RUNNER_NAME": runner["name"],
        "RUNNER_ENVIRONMENT": runner["environment"],
        "RUNNER_TEMP": runner["temp"],
        "RUNNER_TOOL_CACHE": runner["tool_cache"],
    }
    for key in (
        "action", "actor", "api_url", "base_ref", "event_name", "event_path", "graphql_url", "head_ref", "job",
        "ref", "ref_name", "ref_type", "repository", "repository_id", "repository_owner", "run_attempt", "run_id",
        "run_number", "server_url", "sha", "triggering_actor", "workflow", "workflow_ref", "workflow_sha", "workspace",
    ):  # fmt: skip
        env[f"GITHUB_{key.upper()}"] = str(github[key])
    env["GITHUB_REF_PROTECTED"] = "false"
    return env


def permissions(declared: Any) -> dict[str, str]:
    """A job's token permissions from `permissions:` (None: the restricted default of new repositories)."""
    if declared is None:
        return dict(RESTRICTED_DEFAULT)
    if declared in ("read-all", "write-all"):
        level = str(declared).split("-")[0]
        return {scope: level for scope in ALL_SCOPES} | {"metadata": "read"}
    if not isinstance(declared, Mapping):
        raise ValueError(f"permissions: read-all, write-all or a mapping, not {declared!r}")
    return {str(k): str(v) for k, v in declared.items() if v != "none"} | {"metadata": "read"}


def inputs_context(declared: Mapping[str, Any] | None, given: Mapping[str, Any]) -> dict[str, Any]:
    """`inputs` of a workflow_dispatch: given values (strings, as in the event) typed by their declaration."""
    result: dict[str, Any] = {}
    for name, spec in (declared or {}).items():
        spec = spec or {}
        raw = given.get(name, spec.get("default"))
        if raw is None:
            continue
        kind = spec.get("type", "string")
        if kind == "boolean":
            result[name] = raw if isinstance(raw, bool) else str(raw).lower() == "true"
        elif kind == "number":
            result[name] = float(raw) if "." in str(raw) else int(raw)
        else:
            result[name] = str(raw)
    return result
