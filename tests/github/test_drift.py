"""One drift issue: opened, updated only when the drift changes, closed when the registry matches."""

from __future__ import annotations

from reconciler.github import drift
from reconciler.github.client import Client
from reconciler.github.context import Actions
from reconciler.plan.values import Action, Address, Change, Plan
from tests.github.fake import FakeGitHub


def _plan(after: int) -> Plan:
    return Plan((Change(Address("churn", None, "alias", "champion"), Action.UPDATE, 1, after),), scope=("churn",))


def test_drift_opens_one_issue_updates_it_on_change_and_closes_it(fake_github: FakeGitHub):
    fake_github.commit("main", {"README.md": "x\n"})
    fake_github.commit("feature", {"README.md": "y\n"})
    pr = fake_github.open_pull_request("feature")
    fake_github.state.pulls[pr.number].labels.append("registry-drift")  # a pull request is listed as an issue too
    token = fake_github.actions_token({"issues": "write", "contents": "read"})
    client = Client(fake_github.url, token, "acme/registry")
    actions = Actions(fake_github.url, "acme/registry", "schedule", {}, "f" * 40, token, run_id="77")

    opened = drift.report(client, actions, _plan(2))
    same = drift.report(client, actions, _plan(2))
    changed = drift.report(client, actions, _plan(3))
    (issue,) = [i for i in fake_github.issues("registry-drift") if i.number != pr.number]
    comments_while_open = [c.body for c in fake_github.comments_on(issue.number)]
    closed = drift.report(client, actions, Plan(()))
    none = drift.report(client, actions, Plan(()))

    assert [o.action for o in (opened, same, changed, closed, none)] == [
        "opened",
        "unchanged",
        "updated",
        "closed",
        "none",
    ]
    assert opened.issue == same.issue == changed.issue == closed.issue == issue.number
    assert (
        issue.state == "closed" and "<code>v3</code>" in (issue.body or "") and "/actions/runs/77" in (issue.body or "")
    )
    assert len(comments_while_open) == 1 and "The drift changed" in comments_while_open[0]
    assert "matches `models/` again" in fake_github.comments_on(issue.number)[-1].body
    assert fake_github.state.pulls[pr.number].state == "open"  # the pull request was not touched
    label = fake_github.state.label("registry-drift")
    assert label is not None and label.color == "d93f0b"
