"""The plan comment stays within GitHub's size limit, and its sections stay findable."""

from __future__ import annotations

from reconciler.github import comment, view
from reconciler.github.markdown import MAX_BODY
from reconciler.plan import render
from reconciler.plan.values import Action, Address, Change, Plan

DATA = comment.PlanData("sha256:" + "a" * 64, "sha256:" + "b" * 64, "1" * 40, "2" * 40, True)


def test_a_huge_plan_is_cut_but_the_approvals_and_the_data_block_stay():
    changes = tuple(
        Change(Address(f"model-{i:05d}", None, "description"), Action.UPDATE, "x" * 70, "y" * 70) for i in range(3000)
    )
    plan = Plan(changes, scope=tuple(c.address.model for c in changes))
    body = view.plan_comment(
        "status", render.to_markdown(plan), "", "### Approvals\nall in", "foot", comment.encode(DATA)
    )

    assert len(body) <= MAX_BODY < len(render.to_markdown(plan))
    assert "too long for a comment; the whole plan is in the job summary" in body
    assert comment.read_section(body, "approvals") == "### Approvals\nall in"
    assert comment.read_section(body, "plan") is not None and comment.decode(body) == DATA
    replaced = view.replace_section(body, "approvals", "### Approvals\nnone yet")
    assert comment.read_section(replaced, "approvals") == "### Approvals\nnone yet"
