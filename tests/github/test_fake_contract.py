"""The fake GitHub API accepts what GitHub accepts, answers what GitHub's description allows, and
githubkit parses its answers."""

from __future__ import annotations

import httpx
import pytest
from githubkit import GitHub
from githubkit.exception import RequestFailed
from githubkit.utils import UNSET

from tests.github.fake import FakeGitHub
from tests.github.routing import ROUTES, Reply

OWNER, REPO = "acme", "registry"


def _client(gh: FakeGitHub, token: str) -> GitHub:
    return GitHub(token, base_url=gh.url + "/", auto_retry=False)


def _seed(gh: FakeGitHub) -> int:
    gh.commit("main", {"models/churn.yaml": "name: churn\n", "README.md": "registry\n"})
    gh.commit("change", {"models/churn.yaml": "name: churn\ndescription: Churn\n", "README.md": None}, author="alice")
    return gh.open_pull_request("change", author="alice", labels=["registry"]).number


def test_githubkit_reads_a_pull_request_its_files_commits_and_reviews(fake_github: FakeGitHub):
    number = _seed(fake_github)
    review = fake_github.add_review(number, "bob", "APPROVED")
    github = _client(fake_github, fake_github.actions_token({"pull-requests": "read"}))

    pr = github.rest.pulls.get(OWNER, REPO, number).parsed_data
    files = github.rest.pulls.list_files(OWNER, REPO, number).parsed_data
    commits = github.rest.pulls.list_commits(OWNER, REPO, number).parsed_data
    reviews = github.rest.pulls.list_reviews(OWNER, REPO, number).parsed_data

    state = fake_github.state.pulls[number]
    assert (pr.number, pr.head.sha, pr.base.ref, pr.user.login) == (number, state.head_sha, "main", "alice")
    assert [label.name for label in pr.labels] == ["registry"] and pr.changed_files == 2
    assert {(f.filename, f.status) for f in files} == {("models/churn.yaml", "modified"), ("README.md", "removed")}
    assert [c.sha for c in commits] == [state.head_sha]
    assert [(r.id, r.user.login, r.state, r.commit_id) for r in reviews] == [
        (review.id, "bob", "APPROVED", state.head_sha)
    ]


def test_the_plan_comment_is_created_found_and_updated(fake_github: FakeGitHub):
    number = _seed(fake_github)
    fake_github.add_comment(number, "mallory", "<!-- reconciler-plan -->\nforged by someone else")
    github = _client(fake_github, fake_github.actions_token({"pull-requests": "write"}))

    created = github.rest.issues.create_comment(OWNER, REPO, number, body="<!-- reconciler-plan -->\nv1").parsed_data
    github.rest.issues.update_comment(OWNER, REPO, created.id, body="<!-- reconciler-plan -->\nv2")
    listed = github.rest.issues.list_comments(OWNER, REPO, number).parsed_data

    assert created.user.login == "github-actions[bot]" and created.user.type == "Bot"
    assert [(c.user.login, c.body.splitlines()[-1]) for c in listed] == [
        ("mallory", "forged by someone else"),
        ("github-actions[bot]", "v2"),
    ]
    assert fake_github.call_counts() == {
        "issues/create-comment": 1,
        "issues/update-comment": 1,
        "issues/list-comments": 1,
    }


def test_statuses_compare_associated_pulls_and_team_membership(fake_github: FakeGitHub):
    number = _seed(fake_github)
    head = fake_github.state.pulls[number].head_sha
    github = _client(fake_github, fake_github.actions_token({"statuses": "write", "contents": "read"}))
    github.rest.repos.create_commit_status(OWNER, REPO, head, state="pending", context="registry/plan")
    github.rest.repos.create_commit_status(OWNER, REPO, head, state="success", context="registry/plan")
    combined = github.rest.repos.get_combined_status_for_ref(OWNER, REPO, head).parsed_data
    listed = github.rest.repos.list_commit_statuses_for_ref(OWNER, REPO, head).parsed_data
    main_before = fake_github.git.tip("main")
    compared = github.rest.repos.compare_commits(OWNER, REPO, f"{main_before}...{head}").parsed_data
    merged = fake_github.merge_pull_request(number)
    pulls = github.rest.repos.list_pull_requests_associated_with_commit(OWNER, REPO, merged).parsed_data

    assert (combined.state, combined.total_count) == ("success", 1)
    assert [s.state for s in listed] == ["success", "pending"]  # newest first
    assert compared.status == "ahead" and {f.filename for f in compared.files or []} == {
        "models/churn.yaml",
        "README.md",
    }
    assert [p.number for p in pulls] == [number]

    fake_github.add_team_member("acme", "ml-leads", "bob", role="maintainer")
    admin = _client(fake_github, fake_github.add_token("lead", {"members": "read"}))
    membership = admin.rest.teams.get_membership_for_user_in_org("acme", "ml-leads", "bob").parsed_data
    assert (membership.role, membership.state) == ("maintainer", "active")
    with pytest.raises(RequestFailed) as missing:
        admin.rest.teams.get_membership_for_user_in_org("acme", "ml-leads", "alice")
    assert missing.value.response.status_code == 404


def test_the_drift_issue_is_opened_listed_by_label_commented_and_closed(fake_github: FakeGitHub):
    _seed(fake_github)  # an open pull request: GitHub lists pull requests among issues
    fake_github.state.pulls[1].labels.append("registry-drift")
    github = _client(fake_github, fake_github.actions_token({"issues": "write"}))
    with pytest.raises(RequestFailed) as no_label:
        github.rest.issues.get_label(OWNER, REPO, "registry-drift-x")
    assert no_label.value.response.status_code == 404
    github.rest.issues.create_label(OWNER, REPO, name="drift", color="d93f0b")
    issue = github.rest.issues.create(
        OWNER, REPO, title="Registry drift", labels=["drift", "registry-drift"]
    ).parsed_data
    found = github.rest.issues.list_for_repo(OWNER, REPO, labels="registry-drift", state="open").parsed_data
    github.rest.issues.create_comment(OWNER, REPO, issue.number, body="still drifting")
    closed = github.rest.issues.update(OWNER, REPO, issue.number, state="closed").parsed_data

    assert sorted((i.number, i.pull_request is not UNSET) for i in found) == [(1, True), (issue.number, False)]
    assert closed.state == "closed" and closed.state_reason == "completed"
    assert [c.body for c in fake_github.comments_on(issue.number)] == ["still drifting"]


def test_pagination_follows_link_headers_through_githubkit(fake_github: FakeGitHub):
    fake_github.commit("main", {"README.md": "x\n"})
    fake_github.commit("many", {f"models/m{i:03}.yaml": f"name: m{i:03}\n" for i in range(250)}, author="alice")
    number = fake_github.open_pull_request("many").number
    github = _client(fake_github, fake_github.actions_token({"pull-requests": "read"}))

    names = [
        f.filename
        for f in github.rest.paginate(
            github.rest.pulls.list_files, owner=OWNER, repo=REPO, pull_number=number, per_page=100
        )
    ]

    assert names == sorted(f"models/m{i:03}.yaml" for i in range(250))
    assert fake_github.call_counts() == {"pulls/list-files": 3}
    first = httpx.get(
        f"{fake_github.url}/repos/{OWNER}/{REPO}/pulls/{number}/files?per_page=100", headers=_auth(github)
    )
    assert 'rel="next"' in first.headers["Link"] and "page=3" in first.headers["Link"]


def _auth(github: GitHub) -> dict[str, str]:
    return {"Authorization": f"Bearer {github.auth.token}"}  # type: ignore[attr-defined]


def test_a_request_outside_the_description_is_refused_and_recorded(fake_github: FakeGitHub):
    number = _seed(fake_github)
    token = fake_github.actions_token({"pull-requests": "write"})
    headers = {"Authorization": f"Bearer {token}"}

    no_body = httpx.post(
        f"{fake_github.url}/repos/{OWNER}/{REPO}/issues/{number}/comments", json={"text": "x"}, headers=headers
    )
    no_route = httpx.get(f"{fake_github.url}/repos/{OWNER}/{REPO}/pull/{number}", headers=headers)
    bad_json = httpx.post(
        f"{fake_github.url}/repos/{OWNER}/{REPO}/issues/{number}/comments", content=b"{", headers=headers
    )

    assert (no_body.status_code, no_route.status_code, bad_json.status_code) == (422, 404, 400)
    assert no_body.json()["message"].startswith("Invalid request.") and no_route.json()["message"] == "Not Found"
    violations = fake_github.take_violations()
    assert [v.status for v in violations] == [422, 404, 400]
    assert "'body' is a required property" in violations[0].detail
    assert fake_github.comments_on(number) == []


def test_a_response_the_description_forbids_fails_loudly(fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch):
    number = _seed(fake_github)
    route = ROUTES["pulls/get"]
    monkeypatch.setitem(
        ROUTES, "pulls/get", route.__class__(lambda ctx: Reply(200, {"number": number}), route.scope, route.level)
    )
    github = _client(fake_github, fake_github.actions_token({"pull-requests": "read"}))

    with pytest.raises(RequestFailed) as failed:
        github.rest.pulls.get(OWNER, REPO, number)

    assert failed.value.response.status_code == 500
    bugs = fake_github.take_fake_bugs()
    assert len(bugs) == 1 and "pulls/get -> 200" in bugs[0] and "'url' is a required property" in bugs[0]
    with pytest.raises(AssertionError, match="fake bug"):
        fake_github._log.fake_bugs.append(bugs[0])
        fake_github.assert_clean()
    fake_github.take_fake_bugs()


def test_each_api_version_gets_its_own_shape(fake_github: FakeGitHub):
    """2026-03-10 removed merge_commit_sha from pull requests: githubkit's default version does not get it."""
    number = _seed(fake_github)
    headers = {"Authorization": f"Bearer {fake_github.actions_token({'pull-requests': 'read'})}"}
    url = f"{fake_github.url}/repos/{OWNER}/{REPO}/pulls/{number}"

    old = httpx.get(url, headers={**headers, "X-GitHub-Api-Version": "2022-11-28"})
    new = httpx.get(url, headers={**headers, "X-GitHub-Api-Version": "2026-03-10"})
    unknown = httpx.get(url, headers={**headers, "X-GitHub-Api-Version": "2099-01-01"})

    assert old.json()["merge_commit_sha"] == fake_github.test_merge_sha(number)
    assert "merge_commit_sha" not in new.json() and "has_downloads" not in new.json()["head"]["repo"]
    assert unknown.status_code == 400
    assert [v.status for v in fake_github.take_violations()] == [400]


def test_tokens_are_held_to_least_privilege(fake_github: FakeGitHub):
    number = _seed(fake_github)
    url = f"{fake_github.url}/repos/{OWNER}/{REPO}/issues/{number}/comments"
    fork_token = fake_github.actions_token({"pull-requests": "write", "issues": "write"}, read_only=True)
    reader = fake_github.add_token("reader", "read-all")
    workflow_token = fake_github.actions_token("write-all")

    def post(token: str | None) -> int:
        headers = {"Authorization": f"token {token}"} if token else {}
        return httpx.post(url, json={"body": "x"}, headers=headers).status_code

    assert [post(None), post("ghp_not_a_token"), post(fork_token), post(reader)] == [401, 401, 403, 403]
    assert post(workflow_token) == 201
    team = httpx.get(
        f"{fake_github.url}/orgs/acme/teams/leads/memberships/bob",
        headers={"Authorization": f"Bearer {workflow_token}"},
    )
    assert team.status_code == 403 and team.json()["message"] == "Resource not accessible by integration"
    with pytest.raises(ValueError, match="own pull request"):
        fake_github.add_review(number, "alice", "APPROVED")


def test_an_operation_is_handled_once() -> None:
    """Two handler sets for one operation would leave the fake answering with whichever imported last."""
    from tests.github.routing import handles

    with pytest.raises(RuntimeError, match=r"pulls/create is handled twice: tests\.github\.handlers_git"):
        handles("pulls/create", "pull_requests", "write")(lambda ctx: Reply(201))
