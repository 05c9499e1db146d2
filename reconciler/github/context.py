"""GitHub Actions' standard environment and the event payload, as typed values.

Read once, at the edge: GITHUB_API_URL, GITHUB_REPOSITORY, GITHUB_EVENT_NAME, GITHUB_EVENT_PATH,
GITHUB_SHA, the token (an option, else GITHUB_TOKEN), GITHUB_STEP_SUMMARY and GITHUB_OUTPUT, plus
the run's address for links. A test sets them to point the commands at a local fake of GitHub.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.atomic import Unreadable, read_regular
from reconciler.github.errors import GitHubError

PR_EVENTS = ("pull_request", "pull_request_review")
SHA_LENGTH = 40


@dataclass(frozen=True)
class Actions:
    api_url: str
    repository: str  # owner/name
    event_name: str
    event: Mapping[str, Any]
    sha: str
    token: str
    actor: str = ""
    server_url: str = "https://github.com"
    run_id: str = ""
    summary_path: Path | None = None
    output_path: Path | None = None

    @property
    def owner(self) -> str:
        return self.repository.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.repository.split("/", 1)[1]

    @property
    def run_url(self) -> str | None:
        if not self.run_id:
            return None
        return f"{self.server_url}/{self.repository}/actions/runs/{self.run_id}"


@dataclass(frozen=True)
class PullRequestEvent:
    """The pull request an event is about, as the payload gives it."""

    number: int
    head_sha: str
    base_sha: str
    base_ref: str
    author: str
    head_repo: str  # owner/name of the head branch's repository
    base_repo: str

    @property
    def from_fork(self) -> bool:
        return self.head_repo.lower() != self.base_repo.lower()


@dataclass(frozen=True)
class PushEvent:
    ref: str
    before: str
    after: str


def _required(env: Mapping[str, str], key: str) -> str:
    value = env.get(key, "")
    if not value:
        raise GitHubError(
            f"{key} is not set: run this command in a GitHub Actions job, or set the GITHUB_* variables "
            "it reads (README: 'The GitHub commands')"
        )
    return value


def from_env(env: Mapping[str, str] | None = None, token: str | None = None) -> Actions:
    env = os.environ if env is None else env
    repository = _required(env, "GITHUB_REPOSITORY")
    if repository.count("/") != 1:
        raise GitHubError(f"GITHUB_REPOSITORY={repository!r} is not owner/name; leave it as GitHub Actions sets it")
    token = token or env.get("GITHUB_TOKEN", "")
    if not token:
        raise GitHubError(
            "no GitHub token: pass --token, or give the step `env: GITHUB_TOKEN: ${{ github.token }}` "
            "(with the job's `permissions:` the command needs)"
        )
    return Actions(
        api_url=env.get("GITHUB_API_URL") or "https://api.github.com",
        repository=repository,
        event_name=_required(env, "GITHUB_EVENT_NAME"),
        event=_event(Path(_required(env, "GITHUB_EVENT_PATH"))),
        sha=_required(env, "GITHUB_SHA"),
        token=token,
        actor=env.get("GITHUB_ACTOR", ""),
        server_url=env.get("GITHUB_SERVER_URL") or "https://github.com",
        run_id=env.get("GITHUB_RUN_ID", ""),
        summary_path=_path(env.get("GITHUB_STEP_SUMMARY")),
        output_path=_path(env.get("GITHUB_OUTPUT")),
    )


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


MAX_EVENT_BYTES = 64 * 2**20  # GitHub caps webhook payloads at 25 MB


def _event(path: Path) -> Mapping[str, Any]:
    try:
        event = json.loads(read_regular(path, MAX_EVENT_BYTES).decode("utf-8"))
    except FileNotFoundError:
        raise GitHubError(f"GITHUB_EVENT_PATH={path}: no such file; leave it as GitHub Actions sets it") from None
    except Unreadable as e:
        big = f"is over {MAX_EVENT_BYTES // 2**20} MiB"
        what = f"is {e.kind}" if e.kind else big if e.too_big else f"cannot be read ({e.strerror})"
        raise GitHubError(
            f"GITHUB_EVENT_PATH={path}: {what}, not an event payload; leave it as GitHub Actions sets it"
        ) from None
    except (ValueError, UnicodeDecodeError) as e:
        raise GitHubError(f"GITHUB_EVENT_PATH={path}: not a JSON event payload ({e})") from None
    if not isinstance(event, dict):
        raise GitHubError(f"GITHUB_EVENT_PATH={path}: the event payload is not a JSON object")
    return event


def _sha(value: Any, where: str) -> str:
    if not (isinstance(value, str) and len(value) == SHA_LENGTH and all(c in "0123456789abcdef" for c in value)):
        raise GitHubError(f"the event payload's {where} is not a commit sha ({value!r})")
    return value


def pull_request(actions: Actions) -> PullRequestEvent:
    """The pull request of a pull_request or pull_request_review event."""
    if actions.event_name not in PR_EVENTS:
        raise GitHubError(
            f"this command runs on {' or '.join(PR_EVENTS)} events, not {actions.event_name!r}; "
            "check the workflow's `on:`"
        )
    pr = actions.event.get("pull_request")
    if not isinstance(pr, Mapping):
        raise GitHubError(f"the {actions.event_name} event payload has no pull_request object")
    try:
        head, base = pr["head"], pr["base"]
        return PullRequestEvent(
            number=int(pr["number"]),
            head_sha=_sha(head["sha"], "pull_request.head.sha"),
            base_sha=_sha(base["sha"], "pull_request.base.sha"),
            base_ref=str(base["ref"]),
            author=str(pr["user"]["login"]),
            head_repo=str((head.get("repo") or {}).get("full_name") or ""),
            base_repo=str(base["repo"]["full_name"]),
        )
    except (KeyError, TypeError, ValueError) as e:
        raise GitHubError(f"the {actions.event_name} event payload lacks {e}; it is not GitHub's") from None


def push(actions: Actions) -> PushEvent:
    if actions.event_name != "push":
        raise GitHubError(f"this command runs on push events, not {actions.event_name!r}; check the workflow's `on:`")
    try:
        ref = str(actions.event["ref"])
        return PushEvent(ref, str(actions.event.get("before") or ""), _sha(actions.event["after"], "after"))
    except KeyError as e:
        raise GitHubError(f"the push event payload lacks {e}; it is not GitHub's") from None
