"""Drift: ONE open issue labelled `registry-drift` while the registry differs from models/ on the
default branch. A new drift opens it; a changed drift updates its body and comments once; the
same drift again changes nothing (no hourly noise); no drift closes it with a comment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reconciler.github.client import Client, IssueRef
from reconciler.github.context import Actions
from reconciler.github.markdown import CUT_NOTE, MAX_BODY, cut, join, link, short
from reconciler.plan import render
from reconciler.plan.values import Plan

LABEL = "registry-drift"
LABEL_COLOR = "d93f0b"
LABEL_DESCRIPTION = "models/ and the registry differ"
TITLE = "Registry drift: the registry differs from models/"
DIGEST = re.compile(r"<!-- reconciler-drift: (sha256:[0-9a-f]{64}) -->")


@dataclass(frozen=True)
class Outcome:
    action: str  # opened, updated, unchanged, closed, none
    issue: int | None = None
    url: str = ""


def body(plan: Plan, actions: Actions) -> str:
    run = link("this run", actions.run_url)
    head = [
        f"<!-- reconciler-drift: {plan.changes_digest} -->",
        f"The registry differs from `models/` on the default branch at commit {short(actions.sha)} (found by {run}).",
        "To restore the files' state, apply a reviewed plan (`reconciler plan --out plan.json`, then "
        "`reconciler apply plan.json`); to accept the registry's, change `models/` in a pull request "
        "(`reconciler import NAME` writes a file from the registry). This issue closes itself once they match.",
    ]
    room = MAX_BODY - len(join(head)) - 2
    return join([*head, cut(render.to_markdown(plan), room, CUT_NOTE.format(where="the drift run"))])


def _digest(issue: IssueRef) -> str | None:
    found = DIGEST.search(issue.body)
    return found.group(1) if found else None


def report(client: Client, actions: Actions, plan: Plan) -> Outcome:
    issues = client.open_issues(LABEL)
    if not plan.has_changes():
        return _close(client, actions, issues)
    text = body(plan, actions)
    if not issues:
        client.ensure_label(LABEL, LABEL_COLOR, LABEL_DESCRIPTION)
        issue = client.create_issue(TITLE, text, LABEL)
        return Outcome("opened", issue.number, issue.html_url)
    issue = issues[0]  # the oldest open one; a second (opened by hand) is left to people
    if _digest(issue) == plan.changes_digest:
        return Outcome("unchanged", issue.number, issue.html_url)
    client.update_issue(issue.number, body=text)
    client.create_comment(
        issue.number,
        f"The drift changed at commit {short(actions.sha)} ({link('run', actions.run_url)}): "
        f"{render.summary(plan)} The issue's description shows the plan now.",
        "issues: write",
    )
    return Outcome("updated", issue.number, issue.html_url)


def _close(client: Client, actions: Actions, issues: list[IssueRef]) -> Outcome:
    if not issues:
        return Outcome("none")
    for issue in issues:
        client.create_comment(
            issue.number, f"The registry matches `models/` again at commit {short(actions.sha)}.", "issues: write"
        )
        client.update_issue(issue.number, close=True)
    return Outcome("closed", issues[0].number, issues[0].html_url)
