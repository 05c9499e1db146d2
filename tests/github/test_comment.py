"""The plan comment: found by marker AND author, its data block round-trips, signed data refuses edits."""

from __future__ import annotations

import pytest

from reconciler.github import comment
from reconciler.github.client import Client
from reconciler.github.comment import MARKER, BadData, PlanData
from reconciler.plan.values import Action, Address, Change
from tests.github.fake import FakeGitHub

CHANGE = Change(Address("churn", None, "alias", "champion"), Action.UPDATE, 1, 2)
DATA = PlanData(
    "sha256:" + "a" * 64, "sha256:" + "b" * 64, "1" * 40, "2" * 40, True, (CHANGE,), ("models/churn.yaml",), ("churn",)
)


def test_the_data_block_round_trips_and_hides_in_an_html_comment():
    block = comment.encode(DATA)
    assert block.startswith("<!-- reconciler-data: ") and block.endswith(" -->") and "\n" not in block
    assert comment.decode(f"{MARKER}\nplan\n{block}\n") == DATA


def test_a_signed_block_refuses_an_edit_and_a_missing_or_other_key(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RECONCILER_PLAN_KEY", "k1")
    block = comment.encode(DATA)
    assert comment.decode(block) == DATA
    forged = comment.encode(PlanData(DATA.plan_hash, "sha256:" + "c" * 64, DATA.head, DATA.base, True))
    monkeypatch.setenv("RECONCILER_PLAN_KEY", "k2")
    with pytest.raises(BadData, match="not signed with this"):
        comment.decode(block)
    monkeypatch.delenv("RECONCILER_PLAN_KEY")
    with pytest.raises(BadData, match="is not set here"):
        comment.decode(block)
    unsigned = comment.encode(DATA)
    monkeypatch.setenv("RECONCILER_PLAN_KEY", "k1")
    with pytest.raises(BadData, match="not signed with this"):
        comment.decode(unsigned)  # with the key set, an unsigned block is refused
    assert comment.decode(forged).changes_digest.endswith("c" * 64)  # signed with k1: accepted


@pytest.mark.parametrize(
    "body",
    [
        "no block",
        "<!-- reconciler-data: !!! -->",
        "<!-- reconciler-data: AAAA -->",
        "<!-- reconciler-data: eJwDAAAAAAE= -->",
    ],
)
def test_unreadable_blocks_are_refused(body: str):
    with pytest.raises(BadData):
        comment.decode(body)


def test_two_blocks_are_refused():
    block = comment.encode(DATA)
    with pytest.raises(BadData, match="two data blocks"):
        comment.decode(block + "\n" + block)


def test_only_the_bots_comment_with_the_marker_first_counts(fake_github: FakeGitHub):
    fake_github.commit("main", {"README.md": "x\n"})
    fake_github.commit("change", {"README.md": "y\n"}, author="alice")
    number = fake_github.open_pull_request("change").number
    forged = f"{MARKER}\nforged\n{comment.encode(DATA)}"
    fake_github.add_comment(number, "mallory", forged)
    fake_github.add_comment(number, "github-actions", forged)  # a user whose login looks like the bot's
    client = Client(fake_github.url, fake_github.actions_token({"pull-requests": "write"}), "acme/registry")
    client.create_comment(number, f"quoting:\n{MARKER}")  # the bot's, but the marker is not its first line

    assert comment.mine(client.comments(number), "github-actions[bot]") == []
    first = comment.upsert(client, number, [], f"{MARKER}\nv1")
    again = comment.upsert(
        client, number, comment.mine(client.comments(number), "github-actions[bot]"), f"{MARKER}\nv2"
    )

    assert again.id == first.id
    bodies = [c.body for c in fake_github.comments_on(number)]
    assert bodies.count(f"{MARKER}\nv2") == 1 and forged in bodies


def test_a_duplicate_plan_comment_is_removed(fake_github: FakeGitHub):
    fake_github.commit("main", {"README.md": "x\n"})
    fake_github.commit("change", {"README.md": "y\n"}, author="alice")
    number = fake_github.open_pull_request("change").number
    client = Client(fake_github.url, fake_github.actions_token({"pull-requests": "write"}), "acme/registry")
    client.create_comment(number, f"{MARKER}\nv1")
    client.create_comment(number, f"{MARKER}\nv1 (a retried create)")

    comment.upsert(client, number, comment.mine(client.comments(number), "github-actions[bot]"), f"{MARKER}\nv2")

    assert [c.body for c in fake_github.comments_on(number)] == [f"{MARKER}\nv2"]
