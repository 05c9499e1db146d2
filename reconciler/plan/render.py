"""Render a plan for a terminal, a pull-request comment (Markdown) or machines (JSON).

Everything shown comes from files or the registry, so everything is escaped: control characters
become visible escapes on a terminal, and in Markdown every value sits in a <code> element with
its punctuation as HTML entities, so no value can open a comment, a tag, a link, a table cell or
a mention. A long value is shown around its first difference, so a change at the end of a long
description does not look like no change.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.text import Text

from reconciler.plan import saved_plan
from reconciler.plan.values import MODEL, Action, Change, Note, Plan
from reconciler.text import difference, md_code, plural, printable

STYLES = {Action.CREATE: "green", Action.UPDATE: "yellow", Action.DELETE: "red"}
MAX_VALUE = 80
MAX_NOTES_SHOWN = 20
MAX_NOTES_MARKDOWN = 100


def summary(plan: Plan) -> str:
    if not plan.has_changes():
        return "No changes. The registry matches the files."
    n = plan.counts()
    return f"Plan: {n[Action.CREATE]} to add, {n[Action.UPDATE]} to change, {n[Action.DELETE]} to remove."


def _show(c: Change, value: object) -> str:
    if value is None:
        return ""
    if c.address.field == MODEL:
        return repr(value)
    return c.address.declaration().show(value)


def values(c: Change) -> tuple[str, str]:
    """Before and after as shown; long strings around their first difference."""
    if isinstance(c.before, str) and isinstance(c.after, str):
        return difference(c.before, c.after, MAX_VALUE)
    return _clip(_show(c, c.before)), _clip(_show(c, c.after))


def _clip(text: str) -> str:
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def line(c: Change) -> str:
    before, after = values(c)
    label = printable(c.address.label())
    if c.action is Action.CREATE:
        body = f"{label} = {after}"
    elif c.action is Action.DELETE:
        body = f"{label} (was {before})"
    else:
        body = f"{label}: {before} -> {after}"
    return f"{c.action.symbol} {body}" + (f"   ({c.reason})" if c.reason else "")


def _note_summary(notes: Sequence[Note]) -> str:
    policy = sum(1 for n in notes if n.reason is not None)
    models = sum(1 for n in notes if n.reason is None and n.address.field == MODEL)
    other = len(notes) - models - policy
    return (
        "Reported, not changed: "
        + (f"{plural(policy, 'policy note')}, " if policy else "")
        + f"{plural(other, 'entry', 'entries')} only in the registry, "
        f"{plural(models, 'registered model')} without a file."
    )


def note_line(n: Note) -> str:
    """`churn alias[staging]: ... (policy.stage_aliases)`, for a terminal."""
    reason = f"   ({printable(n.reason)})" if n.reason else ""
    return f"{printable(str(n.address))}: {printable(n.message)}{reason}"


def to_text(plan: Plan, console: Console, target: str = "") -> None:
    if target:
        console.print(Text(f"Registry: {printable(target)}", style="dim"))
    for model, changes in plan.by_model().items():
        console.print(Text(f"\n  {printable(model)}", style="bold"))
        for c in changes:
            console.print(Text(f"    {line(c)}", style=STYLES[c.action]))
    console.print()
    console.print(Text(summary(plan), style="bold"))
    if plan.notes:
        console.print(Text(_note_summary(plan.notes), style="dim"))
        for n in plan.notes[:MAX_NOTES_SHOWN]:
            console.print(Text(f"    ? {note_line(n)}", style="dim"))
        if len(plan.notes) > MAX_NOTES_SHOWN:
            console.print(Text(f"    … and {len(plan.notes) - MAX_NOTES_SHOWN} more (see --format json)", style="dim"))


def to_markdown(plan: Plan) -> str:
    out = ["### Model registry plan", "", f"**{summary(plan)}**", ""]
    for model, changes in plan.by_model().items():
        out += [f"#### {md_code(model)}", "", "| | change | before | after | why |", "|---|---|---|---|---|"]
        for c in changes:
            before, after = values(c)
            cells = [c.action.symbol, md_code(c.address.label()), md_code(before), md_code(after), c.reason or ""]
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
    if plan.notes:
        out += [f"<details><summary>{_note_summary(plan.notes)}</summary>", ""]
        out += [
            f"- {md_code(str(n.address))}: {md_code(n.message)}" + (f" ({md_code(n.reason)})" if n.reason else "")
            for n in plan.notes[:MAX_NOTES_MARKDOWN]
        ]
        if len(plan.notes) > MAX_NOTES_MARKDOWN:
            out.append(f"- … and {len(plan.notes) - MAX_NOTES_MARKDOWN} more")
        out += ["", "</details>", ""]
    out.append(f"<sub>plan <code>{plan.plan_hash}</code> · live state <code>{plan.live_fingerprint}</code></sub>")
    return "\n".join(out) + "\n"


def to_json(plan: Plan) -> str:
    return saved_plan.text(plan)


RENDERERS = {"markdown": to_markdown, "json": to_json}
