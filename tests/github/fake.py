"""FakeGitHub: the fake REST API's server, plus the test API that seeds and inspects its state.

with FakeGitHub(tmp_path) as gh:
    gh.commit("main", {"models/churn.yaml": "name: churn\\n"})
    gh.commit("change", {"models/churn.yaml": "name: churn\\ndescription: x\\n"}, author="alice")
    pr = gh.open_pull_request("change", author="alice")
    gh.add_review(pr.number, "bob", "APPROVED")
    token = gh.actions_token({"pull-requests": "write", "statuses": "write"})
    ...  # run the code under test against gh.url with that token
    assert gh.call_counts()["issues/create-comment"] == 1
"""

from __future__ import annotations

import secrets
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType

from .gitrepo import GitRepo, Link
from .server import Call, Log, Violation, serve
from .state import (
    ACTIONS_BOT,
    LEVELS,
    ORGANIZATION_SCOPES,
    REPOSITORY_SCOPES,
    Comment,
    Issue,
    Label,
    Membership,
    PullRequest,
    Repo,
    Review,
    State,
    Status,
    Token,
    User,
)

REVIEW_STATES = ("APPROVED", "CHANGES_REQUESTED", "COMMENTED")


class FakeGitHub:
    def __init__(
        self, workdir: Path, owner: str = "acme", name: str = "registry", default_branch: str = "main"
    ) -> None:
        self.git = GitRepo(workdir / f"{name}.git")
        self.state = State(repo=Repo(owner, name, 4_200_001, default_branch), git=self.git)
        self.state.users[ACTIONS_BOT.login] = ACTIONS_BOT
        self._lock = threading.RLock()
        self._log = Log([], [], [], threading.RLock())
        self._server, self._stop = serve(self.state, self._log, self._lock)
        self.url: str = self._server.api

    # -- lifecycle ------------------------------------------------------------------------------
    def __enter__(self) -> FakeGitHub:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._stop()

    @property
    def repo(self) -> Repo:
        return self.state.repo

    # -- people, tokens, teams --------------------------------------------------------------------
    def user(self, login: str, type: str = "User") -> User:
        with self._lock:
            if login not in self.state.users:
                self.state.users[login] = User(login, 5_000_000 + len(self.state.users), type)
            return self.state.users[login]

    def add_token(
        self, login: str, permissions: Mapping[str, str] | str = "write-all", value: str | None = None
    ) -> str:
        """A token acting as `login`: "read-all", "write-all" or {scope: "read" | "write"}."""
        value = value or f"ghp_{secrets.token_hex(16)}"
        self.state.tokens[value] = Token(value, self.user(login), _scopes(permissions))
        return value

    def actions_token(self, permissions: Mapping[str, str] | str, *, read_only: bool = False) -> str:
        """A GITHUB_TOKEN for a job with these `permissions:` (workflow syntax: `pull-requests: write`).

        `read_only` is what GitHub does for a pull request from a fork: every scope capped at read.
        GITHUB_TOKEN never has organization scopes, so team membership is out of its reach.
        """
        scopes = _scopes(permissions, strict=False)
        scopes = {k: v for k, v in scopes.items() if k in REPOSITORY_SCOPES}
        if read_only:
            scopes = {k: min(v, "read", key=LEVELS.__getitem__) for k, v in scopes.items()}
        value = f"ghs_{secrets.token_hex(16)}"
        self.state.tokens[value] = Token(value, ACTIONS_BOT, scopes)
        return value

    def add_team_member(self, org: str, team: str, login: str, role: str = "member", state: str = "active") -> None:
        with self._lock:
            self.state.teams.setdefault((org.lower(), team.lower()), {})[login.lower()] = Membership(role, state)

    # -- repository content -----------------------------------------------------------------------
    def commit(
        self,
        branch: str,
        files: Mapping[str, str | Link | None],
        message: str = "Change files",
        author: str = "octocat",
        parent: str | None = None,
    ) -> str:
        """Commit on `branch` (created from `parent`, or from the default branch, if new)."""
        with self._lock:
            self.user(author)
            if parent is None and self.git.tip(branch) is None:
                parent = self.git.tip(self.repo.default_branch)
            sha = self.git.commit(branch, files, message, author, parent)
            self._refresh_pulls(branch)
            return sha

    def fork(self, owner: str) -> Repo:
        """A fork of the repository owned by `owner`; its branches live in the same object store."""
        with self._lock:
            self.user(owner)
            fork = Repo(owner, self.repo.name, 4_300_000 + len(self.state.forks), self.repo.default_branch, fork=True)
            self.state.forks[fork.full_name] = fork
            return fork

    # -- pull requests ----------------------------------------------------------------------------
    def open_pull_request(
        self,
        head: str,
        base: str | None = None,
        author: str = "alice",
        title: str = "Change the registry",
        body: str | None = None,
        fork: Repo | None = None,
        labels: Iterable[str] = (),
        draft: bool = False,
    ) -> PullRequest:
        """Open a pull request from branch `head` (of `fork`, if given) into `base`."""
        with self._lock:
            base = base or self.repo.default_branch
            head_sha, base_sha = self._tip(head), self._tip(base)
            now = self.state.now()
            number = self.state.new_number()
            pr = PullRequest(
                number,
                title,
                body,
                self.user(author),
                head,
                head_sha,
                fork or self.repo,
                base,
                base_sha,
                now,
                now,
                draft=draft,
            )
            pr.labels = [self._label(n).name for n in labels]
            self.state.pulls[number] = pr
            self._refresh(pr)
            return pr

    def push(
        self,
        number: int,
        files: Mapping[str, str | Link | None],
        message: str = "Address review",
        author: str | None = None,
    ) -> str:
        """A new commit on the pull request's head branch (a `synchronize`); returns its sha."""
        with self._lock:
            pr = self.state.pulls[number]
            return self.commit(pr.head_ref, files, message, author or pr.user.login)

    def add_review(self, number: int, login: str, state: str, body: str = "", commit_id: str | None = None) -> Review:
        """`login` reviews the pull request at its current head (or `commit_id`)."""
        with self._lock:
            pr = self.state.pulls[number]
            if state not in REVIEW_STATES:
                raise ValueError(f"a submitted review is one of {REVIEW_STATES}, not {state!r}")
            if login == pr.user.login and state != "COMMENTED":
                raise ValueError("GitHub refuses it: Can not approve your own pull request")
            if state == "CHANGES_REQUESTED" and not body:
                body = "Please change this."
            review = Review(
                self.state.new_id(), number, self.user(login), state, body, commit_id or pr.head_sha, self.state.now()
            )
            self.state.reviews.append(review)
            return review

    def dismiss_review(self, review_id: int) -> Review:
        with self._lock:
            review = next(r for r in self.state.reviews if r.id == review_id)
            if review.state not in ("APPROVED", "CHANGES_REQUESTED"):
                raise ValueError("GitHub only dismisses approvals and change requests")
            review.state = "DISMISSED"
            return review

    def merge_pull_request(self, number: int, by: str = "maintainer", method: str = "merge") -> str:
        """Merge (a merge commit, or `method="squash"`) into the base branch; returns the new base tip."""
        with self._lock:
            pr = self.state.pulls[number]
            if pr.state != "open":
                raise ValueError(f"pull request #{number} is {pr.state}")
            base_tip = self._tip(pr.base_ref)
            message = f"Merge pull request #{number} from {pr.head_repo.owner}/{pr.head_ref}\n\n{pr.title}"
            merged = self.git.merge_commit(base_tip, pr.head_sha, message, by)
            if method == "squash":
                tree = self.git.info(merged).tree
                merged = self.git._commit_tree(tree, [base_tip], f"{pr.title} (#{number})", pr.user.login)
            self.git.set_ref(f"refs/heads/{pr.base_ref}", merged)
            now = self.state.now()
            pr.state, pr.merged, pr.merged_by, pr.merged_at, pr.closed_at = "closed", True, self.user(by), now, now
            pr.merge_commit_sha, pr.updated_at = merged, now
            self._refresh_pulls(pr.base_ref)
            return merged

    def close_pull_request(self, number: int) -> None:
        with self._lock:
            pr = self.state.pulls[number]
            pr.state, pr.closed_at, pr.updated_at = "closed", self.state.now(), self.state.now()

    def reopen_pull_request(self, number: int) -> None:
        with self._lock:
            pr = self.state.pulls[number]
            pr.state, pr.closed_at, pr.updated_at = "open", None, self.state.now()
            self._refresh(pr)

    def test_merge_sha(self, number: int) -> str:
        """refs/pull/N/merge: the commit a `pull_request` workflow run checks out (GITHUB_SHA)."""
        sha = self.git.resolve(f"refs/pull/{number}/merge")
        if sha is None:
            raise ValueError(f"pull request #{number} has no test merge commit (closed, or conflicts)")
        return sha

    def _tip(self, branch: str) -> str:
        sha = self.git.tip(branch)
        if sha is None:
            raise ValueError(f"no branch {branch!r}: commit to it first")
        return sha

    def _refresh_pulls(self, branch: str) -> None:
        for pr in self.state.pulls.values():
            if pr.state == "open" and branch in (pr.head_ref, pr.base_ref):
                self._refresh(pr)

    def _refresh(self, pr: PullRequest) -> None:
        """Follow the branches: head sha, base sha and the test merge commit, as GitHub recomputes them."""
        pr.head_sha, pr.base_sha = self._tip(pr.head_ref), self._tip(pr.base_ref)
        self.git.set_ref(f"refs/pull/{pr.number}/head", pr.head_sha)
        message = f"Merge {pr.head_sha} into {pr.base_sha}"
        pr.merge_commit_sha = self.git.merge_commit(pr.base_sha, pr.head_sha, message, "github")
        self.git.set_ref(f"refs/pull/{pr.number}/merge", pr.merge_commit_sha)

    # -- issues, comments, labels, statuses -------------------------------------------------------
    def add_comment(self, number: int, login: str, body: str) -> Comment:
        with self._lock:
            now = self.state.now()
            comment = Comment(self.state.new_id(), number, self.user(login), body, now, now)
            self.state.comments.append(comment)
            return comment

    def create_issue(self, title: str, body: str = "", login: str = "octocat", labels: Iterable[str] = ()) -> Issue:
        with self._lock:
            now = self.state.now()
            issue = Issue(self.state.new_number(), title, body, self.user(login), now, now)
            issue.labels = [self._label(n).name for n in labels]
            self.state.issues[issue.number] = issue
            return issue

    def create_label(self, name: str, color: str = "d93f0b", description: str | None = None) -> Label:
        with self._lock:
            label = Label(self.state.new_id(), name, color, description)
            self.state.labels[name.lower()] = label
            return label

    def _label(self, name: str) -> Label:
        return self.state.label(name) or self.create_label(name, "ededed")

    # -- inspection -------------------------------------------------------------------------------
    @property
    def calls(self) -> list[Call]:
        with self._log.lock:
            return list(self._log.calls)

    def call_counts(self) -> Counter[str]:
        """API calls so far by operationId (refused requests count under their path)."""
        return Counter(c.operation_id or f"{c.method} {c.path}" for c in self.calls)

    def reset_calls(self) -> None:
        with self._log.lock:
            self._log.calls.clear()

    def comments_on(self, number: int) -> list[Comment]:
        return [c for c in self.state.comments if c.issue_number == number]

    def statuses_for(self, sha: str) -> list[Status]:
        return [s for s in self.state.statuses if s.sha == sha]

    def issues(self, label: str | None = None, state: str = "all") -> list[Issue]:
        found = [i for i in self.state.issues.values() if state == "all" or i.state == state]
        return [i for i in found if label is None or label.lower() in (n.lower() for n in i.labels)]

    def take_violations(self) -> list[Violation]:
        """The contract violations so far, forgotten once read (a test that expects some takes them)."""
        with self._log.lock:
            taken, self._log.violations[:] = list(self._log.violations), []
            return taken

    def take_fake_bugs(self) -> list[str]:
        with self._log.lock:
            taken, self._log.fake_bugs[:] = list(self._log.fake_bugs), []
            return taken

    def assert_clean(self) -> None:
        """Fail if the client broke the contract or the fake produced a response the spec forbids."""
        with self._log.lock:
            problems = [f"fake bug: {b}" for b in self._log.fake_bugs]
            problems += [
                f"contract violation: {v.method} {v.path} -> {v.status}: {v.detail}" for v in self._log.violations
            ]
        if problems:
            raise AssertionError("GitHub contract problems:\n" + "\n".join(problems))


def _scopes(permissions: Mapping[str, str] | str, strict: bool = True) -> dict[str, str]:
    every = (*REPOSITORY_SCOPES, *ORGANIZATION_SCOPES)
    if permissions in ("read-all", "write-all"):
        level = str(permissions).split("-")[0]
        return {scope: level for scope in every}
    assert not isinstance(permissions, str), f"permissions: read-all, write-all or a mapping, not {permissions!r}"
    scopes = {key.replace("-", "_"): value for key, value in permissions.items() if value != "none"}
    unknown = set(scopes) - set(every)
    if unknown and not strict:  # deployments, packages, id-token...: scopes the fake has no endpoint for
        scopes = {k: v for k, v in scopes.items() if k in every}
    elif unknown:
        raise ValueError(f"unknown permission scopes {sorted(unknown)}; known: {every}")
    return {"metadata": "read", **scopes}
