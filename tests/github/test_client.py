"""reconciler.github.client against the fake GitHub API (every request and response checked against
GitHub's OpenAPI description by the fake)."""

from __future__ import annotations

import pytest

from reconciler.github.client import Client
from reconciler.github.errors import GitHubError
from tests.github.fake import FakeGitHub


def _seed(gh: FakeGitHub) -> int:
    gh.commit("main", {"models/churn.yaml": "name: churn\n"})
    gh.commit("change", {"models/churn.yaml": "name: churn\ndescription: x\n"}, author="alice")
    return gh.open_pull_request("change", author="alice").number


def test_comments_reviews_and_statuses(fake_github: FakeGitHub):
    number = _seed(fake_github)
    fake_github.add_review(number, "bob", "APPROVED")
    fake_github.add_review(number, "carol", "CHANGES_REQUESTED")
    token = fake_github.actions_token({"pull-requests": "write", "statuses": "write", "contents": "read"})
    client = Client(fake_github.url, token, "acme/registry")

    posted = client.create_comment(number, "<!-- m -->\nhello")
    client.update_comment(posted.id, "<!-- m -->\nagain")
    head = fake_github.state.pulls[number].head_sha
    client.set_status(head, "failure", "registry/policy", "x" * 200, "https://github.com/acme/registry/actions/runs/1")

    assert [(c.author, c.body) for c in client.comments(number)] == [("github-actions[bot]", "<!-- m -->\nagain")]
    assert [(r.user, r.state, r.commit_id) for r in client.reviews(number)] == [
        ("bob", "APPROVED", head),
        ("carol", "CHANGES_REQUESTED", head),
    ]
    (status,) = fake_github.statuses_for(head)
    assert (status.state, status.context, len(status.description or "")) == ("failure", "registry/policy", 140)


def test_pages_of_comments_are_all_read(fake_github: FakeGitHub):
    number = _seed(fake_github)
    for i in range(230):
        fake_github.add_comment(number, "mallory", f"comment {i}")
    client = Client(fake_github.url, fake_github.actions_token({"pull-requests": "read"}), "acme/registry")
    fake_github.reset_calls()

    assert len(client.comments(number)) == 230
    assert fake_github.call_counts() == {"issues/list-comments": 3}  # 100 a page


def test_team_members_need_a_token_that_can_read_them(fake_github: FakeGitHub):
    _seed(fake_github)
    fake_github.add_team_member("acme", "ml-leads", "Bob")
    fake_github.add_team_member("acme", "ml-leads", "dave", state="pending")
    reader = Client(fake_github.url, fake_github.add_token("lead", {"members": "read"}), "acme/registry")
    workflow = Client(fake_github.url, fake_github.actions_token({"contents": "read"}), "acme/registry")

    assert reader.team_members("acme", "ml-leads") == frozenset({"bob"})  # pending invitations are not members
    with pytest.raises(GitHubError, match="RECONCILER_MEMBERS_TOKEN"):
        workflow.team_members("acme", "ml-leads")
    with pytest.raises(GitHubError, match="HTTP 404"):
        reader.team_members("acme", "no-such-team")


def test_refusals_say_which_permission_the_job_lacks(fake_github: FakeGitHub):
    number = _seed(fake_github)
    read_only = Client(fake_github.url, fake_github.actions_token({"pull-requests": "read"}), "acme/registry")
    with pytest.raises(GitHubError) as refused:
        read_only.create_comment(number, "x")
    message = str(refused.value)
    assert "HTTP 403" in message and "`pull-requests: write`" in message and "\n" not in message
    with pytest.raises(GitHubError, match="HTTP 401"):
        Client(fake_github.url, "ghp_revoked", "acme/registry").comments(number)


def test_associated_pull_requests_and_drift_issues(fake_github: FakeGitHub):
    number = _seed(fake_github)
    fake_github.state.pulls[number].labels.append("registry-drift")  # GitHub lists pull requests as issues
    merged = fake_github.merge_pull_request(number)
    client = Client(
        fake_github.url, fake_github.actions_token({"contents": "read", "issues": "write"}), "acme/registry"
    )

    (pull,) = client.pulls_for_commit(merged)
    client.ensure_label("registry-drift", "d93f0b", "drift")
    client.ensure_label("registry-drift", "d93f0b", "drift")  # exists: left alone
    issue = client.create_issue("Drift", "body", "registry-drift")

    assert (pull.number, pull.merged, pull.base_ref, pull.author) == (number, True, "main", "alice")
    assert [i.number for i in client.open_issues("registry-drift")] == [issue.number]
    client.update_issue(issue.number, close=True)
    assert client.open_issues("registry-drift") == []


def test_every_text_sent_to_github_is_masked_and_an_unchanged_comment_is_not_updated(fake_github: FakeGitHub):
    """Masked in the one method every call goes through, so comments, statuses and issues alike."""
    from reconciler.github import comment
    from tests.support import secrets_scan

    secret = secrets_scan.token(16)
    uri = f"postgres://bob:{secret}@db/x"
    number = _seed(fake_github)
    token = fake_github.actions_token({"pull-requests": "write", "statuses": "write", "issues": "write"})
    client = Client(fake_github.url, token, "acme/registry")
    head = fake_github.state.pulls[number].head_sha

    posted = comment.upsert(client, number, [], f"<!-- m -->\ncould not reach {uri}")
    again = comment.upsert(client, number, client.comments(number), f"<!-- m -->\ncould not reach {uri}")
    client.set_status(head, "error", "registry/policy", f"Could not plan: {'x' * 110} http:/bob:{secret}@db", None)
    issue = client.create_issue(f"Drift at {uri}", f"see {uri}", "registry-drift")
    client.update_issue(issue.number, body=f"still {uri}")

    (status,) = fake_github.statuses_for(head)
    texts = [c.body for c in fake_github.comments_on(number)] + [status.description or ""]
    texts += [f"{i.title} {i.body}" for i in fake_github.issues()]
    assert all(secret not in t and secret[:4] not in t for t in texts), texts
    assert "could not reach postgres://bob:***@db/x" in texts[0] and "still postgres://bob:***@db/x" in texts[-1]
    assert again.id == posted.id and fake_github.call_counts()["issues/update-comment"] == 0
