"""The fake's in-memory state: typed records the handlers read and write, and tests seed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .gitrepo import GitRepo

# GitHub App / fine-grained permission names the fake enforces, and what GITHUB_TOKEN can hold.
REPOSITORY_SCOPES = ("contents", "metadata", "pull_requests", "issues", "statuses", "checks", "actions")
ORGANIZATION_SCOPES = ("members",)
LEVELS = {"none": 0, "read": 1, "write": 2}


@dataclass(frozen=True)
class User:
    login: str
    id: int
    type: str = "User"  # "User" or "Bot"


ACTIONS_BOT = User("github-actions[bot]", 41898282, "Bot")


@dataclass(frozen=True)
class Token:
    """An access token: who it acts as and what it may do (scope -> "read" | "write")."""

    value: str
    user: User
    permissions: dict[str, str]

    def allows(self, scope: str, level: str) -> bool:
        return LEVELS[self.permissions.get(scope, "none")] >= LEVELS[level]


@dataclass(frozen=True)
class Repo:
    owner: str
    name: str
    id: int
    default_branch: str = "main"
    private: bool = False
    fork: bool = False

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass
class PullRequest:
    number: int
    title: str
    body: str | None
    user: User
    head_ref: str
    head_sha: str
    head_repo: Repo
    base_ref: str
    base_sha: str
    created_at: datetime
    updated_at: datetime
    state: str = "open"
    draft: bool = False
    merged: bool = False
    merged_by: User | None = None
    merged_at: datetime | None = None
    closed_at: datetime | None = None
    merge_commit_sha: str | None = None
    labels: list[str] = field(default_factory=list)


@dataclass
class Review:
    id: int
    pull_number: int
    user: User
    state: str  # APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED
    body: str
    commit_id: str
    submitted_at: datetime


@dataclass
class Comment:
    id: int
    issue_number: int
    user: User
    body: str
    created_at: datetime
    updated_at: datetime


@dataclass
class Issue:
    number: int
    title: str
    body: str | None
    user: User
    created_at: datetime
    updated_at: datetime
    state: str = "open"
    state_reason: str | None = None
    closed_at: datetime | None = None
    closed_by: User | None = None
    labels: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Label:
    id: int
    name: str
    color: str
    description: str | None


@dataclass(frozen=True)
class Status:
    id: int
    sha: str
    state: str
    context: str
    description: str | None
    target_url: str | None
    creator: User
    created_at: datetime


@dataclass(frozen=True)
class Membership:
    role: str  # member | maintainer
    state: str  # active | pending


@dataclass
class State:
    repo: Repo
    git: GitRepo
    users: dict[str, User] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    forks: dict[str, Repo] = field(default_factory=dict)
    pulls: dict[int, PullRequest] = field(default_factory=dict)
    issues: dict[int, Issue] = field(default_factory=dict)
    reviews: list[Review] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    labels: dict[str, Label] = field(default_factory=dict)
    statuses: list[Status] = field(default_factory=list)
    teams: dict[tuple[str, str], dict[str, Membership]] = field(default_factory=dict)
    next_number: int = 1
    next_id: int = 1000

    def now(self) -> datetime:
        return self.git.now()

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def new_number(self) -> int:
        """Issues and pull requests share one sequence of numbers, as on GitHub."""
        number = self.next_number
        self.next_number += 1
        return number

    def label(self, name: str) -> Label | None:
        return next((lab for key, lab in self.labels.items() if key.lower() == name.lower()), None)
