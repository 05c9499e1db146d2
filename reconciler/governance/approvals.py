"""Which reviews count toward each requirement. Pure: reviews, team members and the freshness of
reviewed commits come in as values (the GitHub commands fetch them).

A reviewer's latest APPROVED, CHANGES_REQUESTED or DISMISSED review is their word (a COMMENTED
one changes nothing). An approval counts when the reviewer is not the author, is in one of the
requirement's groups (a login, or a member of a team), and approved the head commit or a commit
from which nothing under models/ changed up to the head. An eligible reviewer's outstanding
CHANGES_REQUESTED blocks the requirement, whatever the approvals.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from reconciler.governance.principals import is_team, principal
from reconciler.governance.rules import Requirement
from reconciler.text import plural, printable

STATUS_MAX = 140  # GitHub's limit for a commit status description
STALE = "approved an earlier commit, and models/ changed since"


class State(str, Enum):
    APPROVED = "APPROVED"
    CHANGES_REQUESTED = "CHANGES_REQUESTED"
    COMMENTED = "COMMENTED"
    DISMISSED = "DISMISSED"
    PENDING = "PENDING"


DECISIVE = (State.APPROVED, State.CHANGES_REQUESTED, State.DISMISSED)


@dataclass(frozen=True)
class Review:
    user: str  # the reviewer's login
    state: State
    commit_id: str  # the head commit the review was given on
    submitted_at: datetime | None = None  # None: pending (not submitted)


@dataclass(frozen=True)
class NotCounted:
    user: str
    reason: str  # in our words: "the pull request's author", "not an approver of this", ...
    commit: str = ""  # for a stale approval: the commit it was given on


@dataclass(frozen=True)
class RequirementVerdict:
    requirement: Requirement
    counted: tuple[str, ...] = ()  # logins whose approvals count, sorted
    not_counted: tuple[NotCounted, ...] = ()
    blocked_by: tuple[str, ...] = ()  # eligible reviewers whose latest review requests changes
    unresolved_teams: tuple[str, ...] = ()  # teams in the groups whose members were not given

    @property
    def missing(self) -> int:
        return max(0, self.requirement.approvals - len(self.counted))

    @property
    def ok(self) -> bool:
        return not self.missing and not self.blocked_by

    def message(self) -> str:
        """What is still needed, in one line: "needs 1 more approval from alice or @acme/ml-leads"."""
        if self.ok:
            return "approved"
        parts = []
        if self.blocked_by:
            parts.append(f"changes requested by {', '.join(self.blocked_by)}")
        if self.missing and not self.requirement.groups:
            parts.append("nobody can approve: the base branch names no approvers for it")
        elif self.missing:
            more = " more" if self.counted else ""
            who = either(self.requirement.groups)
            parts.append(f"needs {self.missing}{more} {_approval_word(self.missing)} from {who}")
        return "; ".join(parts)


def either(items: Sequence[str]) -> str:
    """ "a", "a or b", "a, b or c"."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def _approval_word(n: int) -> str:
    return "approval" if n == 1 else "approvals"


@dataclass(frozen=True)
class Verdict:
    results: tuple[RequirementVerdict, ...]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    @property
    def approvers(self) -> tuple[str, ...]:
        """Everyone whose approval counted somewhere: what the audit record names."""
        return tuple(sorted({u for r in self.results for u in r.counted}))

    def failing(self) -> tuple[RequirementVerdict, ...]:
        return tuple(r for r in self.results if not r.ok)

    def status_description(self) -> str:
        """At most 140 characters, plain text: GitHub shows it next to the commit status."""
        failing = self.failing()
        if not self.results:
            return "No approvals needed"
        if not failing:
            return f"Approved: {plural(len(self.results), 'requirement')} met"
        first = failing[0]
        text = f"{plural(len(failing), 'requirement')} not met: {first.requirement.subject} {first.message()}"
        return clip(printable(text), STATUS_MAX)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


Fresh = Callable[[str], bool] | Collection[str]


def latest_reviews(reviews: Iterable[Review]) -> dict[str, Review]:
    """Each reviewer's last decisive review, by submission time (ties: the order given)."""
    submitted = [(r.submitted_at, i, r) for i, r in enumerate(reviews) if r.state in DECISIVE and r.user]
    timed = [(at, i, r) for at, i, r in submitted if at is not None]
    out: dict[str, Review] = {}
    for _, _, r in sorted(timed, key=lambda x: (x[0], x[1])):
        out[login(r.user)] = r
    return out


def commits_to_check(reviews: Iterable[Review], author: str, head_sha: str) -> frozenset[str]:
    """The commits, other than the head, that latest approvals were given on: ask, once per
    commit, whether anything under models/ changed from it to the head."""
    return frozenset(
        r.commit_id
        for r in latest_reviews(reviews).values()
        if r.state is State.APPROVED and not is_author(r.user, author) and r.commit_id != head_sha
    )


def login(user: str) -> str:
    """A GitHub login as GitHub gives it, compared case-insensitively (no "@" dropped: "@alice" is
    not a login GitHub hands out, so it is nobody's)."""
    return user.lower()


def is_author(user: str, author: str) -> bool:
    """Generous on purpose: any spelling of the author is the author."""
    return principal(user) == principal(author)


def touches_models(changed_paths: Iterable[str], models_dir: str = "models") -> bool:
    """Whether any of these paths (a compare's files) is under `models_dir`: then an approval given
    before them no longer counts."""
    root = models_dir.strip("/") + "/"
    return any(p.removeprefix("./").startswith(root) for p in changed_paths)


def teams_needed(requirements: Iterable[Requirement]) -> frozenset[str]:
    """The teams ("@org/team", lower case) whose members `evaluate` needs."""
    return frozenset(p for r in requirements for p in map(principal, r.groups) if is_team(p))


def evaluate(
    requirements: Sequence[Requirement],
    reviews: Iterable[Review],
    author: str,
    head_sha: str,
    fresh: Fresh,
    members: Mapping[str, Collection[str]],
) -> Verdict:
    """`fresh(commit)`, or `commit in fresh`: no file under models/ changed from it up to the head.
    `members`: team ("@org/team", any case) -> logins."""
    latest = latest_reviews(reviews)
    is_fresh = functools.cache(fresh) if callable(fresh) else set(fresh).__contains__  # asked once per commit
    teams = {principal(t): {login(m) for m in ms} for t, ms in members.items()}
    context = _Context(latest, author, head_sha, is_fresh, teams)
    return Verdict(tuple(context.judge(r) for r in requirements))


@dataclass(frozen=True)
class _Context:
    latest: Mapping[str, Review]
    author: str
    head_sha: str
    fresh: Callable[[str], bool]
    teams: Mapping[str, set[str]]

    def eligible(self, who: str, groups: Sequence[str]) -> bool:
        return any(who in self.teams.get(g, ()) if is_team(g) else who == g for g in groups)

    def judge(self, req: Requirement) -> RequirementVerdict:
        groups = [principal(g) for g in req.groups]
        counted, not_counted, blocked = [], [], []
        for who, r in sorted(self.latest.items()):
            user = r.user
            if is_author(user, self.author):
                not_counted.append(NotCounted(user, "the pull request's author"))
            elif r.state is State.DISMISSED:
                not_counted.append(NotCounted(user, "review dismissed"))
            elif not self.eligible(who, groups):
                not_counted.append(NotCounted(user, self._outsider(r, groups)))
            elif r.state is State.CHANGES_REQUESTED:
                blocked.append(user)
            elif r.commit_id != self.head_sha and not self.fresh(r.commit_id):
                not_counted.append(NotCounted(user, STALE, r.commit_id))
            else:
                counted.append(user)
        unresolved = tuple(g for g in groups if is_team(g) and g not in self.teams)
        return RequirementVerdict(req, tuple(counted), tuple(not_counted), tuple(blocked), unresolved)

    def _outsider(self, r: Review, groups: Sequence[str]) -> str:
        reason = "not an approver of this"
        if r.state is State.CHANGES_REQUESTED:
            reason += "; the changes request does not block it"
        if any(is_team(g) and g not in self.teams for g in groups):
            reason += "; the members of some teams were not known"
        return reason
