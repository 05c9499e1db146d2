"""Event payloads start from recorded webhooks and agree with the fake's state and GitHub's schema."""

from __future__ import annotations

from tests.github import events
from tests.github.fake import FakeGitHub


def test_pull_request_and_review_events_match_the_fake(fake_github: FakeGitHub):
    fake_github.commit("main", {"README.md": "x\n"})
    fake_github.commit("change", {"README.md": "y\n"}, author="alice")
    pr = fake_github.open_pull_request("change", author="alice", labels=["registry"])
    old_head = pr.head_sha
    fake_github.push(pr.number, {"README.md": "z\n"})
    review = fake_github.add_review(pr.number, "bob", "CHANGES_REQUESTED", commit_id=old_head)

    opened = events.pull_request(fake_github, pr.number, "opened")
    synced = events.pull_request(fake_github, pr.number, "synchronize", before=old_head)
    reviewed = events.pull_request_review(fake_github, review.id)
    fake_github.dismiss_review(review.id)
    dismissed = events.pull_request_review(fake_github, review.id, "dismissed")

    body = opened.payload["pull_request"]
    assert (opened.payload["action"], body["number"], body["head"]["sha"]) == ("opened", pr.number, pr.head_sha)
    assert body["base"]["repo"]["full_name"] == body["head"]["repo"]["full_name"] == "acme/registry"
    assert [label["name"] for label in body["labels"]] == ["registry"] and body["user"]["login"] == "alice"
    assert (opened.sha, opened.ref) == (fake_github.test_merge_sha(pr.number), f"refs/pull/{pr.number}/merge")
    assert (synced.payload["before"], synced.payload["after"]) == (old_head, pr.head_sha)
    assert (
        reviewed.payload["review"]["state"] == "changes_requested"
        and reviewed.payload["review"]["commit_id"] == old_head
    )
    assert dismissed.payload["review"]["state"] == "dismissed" and dismissed.actor == "bob"


def test_a_fork_pull_request_names_the_fork_as_head(fake_github: FakeGitHub):
    fake_github.commit("main", {"README.md": "x\n"})
    fork = fake_github.fork("mallory")
    fake_github.commit("evil", {"README.md": "y\n"}, author="mallory")
    pr = fake_github.open_pull_request("evil", author="mallory", fork=fork)
    head = events.pull_request(fake_github, pr.number).payload["pull_request"]["head"]
    assert head["repo"]["full_name"] == "mallory/registry" and head["repo"]["fork"] is True


def test_push_dispatch_and_schedule_events(fake_github: FakeGitHub):
    fake_github.commit("main", {"README.md": "x\n"})
    fake_github.commit("change", {"models/a.yaml": "name: a\n"}, author="alice")
    pr = fake_github.open_pull_request("change", author="alice")
    before = fake_github.git.tip("main")
    merged = fake_github.merge_pull_request(pr.number)

    pushed = events.push(fake_github, "main", before, actor="maintainer")
    dispatched = events.workflow_dispatch(fake_github, "drift.yml", {"dry-run": "true"})
    scheduled = events.schedule(fake_github, "17 * * * *")

    assert (pushed.sha, pushed.payload["after"], pushed.payload["head_commit"]["id"]) == (merged, merged, merged)
    assert pushed.payload["commits"][0]["added"] == ["models/a.yaml"]
    assert dispatched.payload["inputs"] == {"dry-run": "true"} and dispatched.ref == "refs/heads/main"
    assert scheduled.payload == {"schedule": "17 * * * *"} and scheduled.sha == merged
