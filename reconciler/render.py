"""Render a plan for a terminal, a pull-request comment (Markdown) or machines (JSON)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from rich.console import Console
from rich.text import Text

from reconciler.plan import Action, Change, Field, Note, Plan

STYLES = {Action.CREATE: "green", Action.UPDATE: "yellow", Action.DELETE: "red"}
MAX_VALUE = 80
MAX_NOTES_SHOWN = 20


def summary(plan: Plan) -> str:
    if not plan.has_changes():
        return "No changes. The registry matches the files."
    n = plan.counts()
    return f"Plan: {n[Action.CREATE]} to add, {n[Action.UPDATE]} to change, {n[Action.DELETE]} to remove."


def short(value: object) -> str:
    if value is None:
        return ""
    text = str(value).replace("\n", " ")
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def label(c: Change) -> str:
    a = c.address
    prefix = f"v{a.version} " if a.version is not None else ""
    if a.field is Field.MODEL:
        return "registered model"
    return prefix + (a.field.value if a.key is None else f"{a.field.value}[{a.key}]")


def _values(c: Change) -> tuple[str, str]:
    fmt = (lambda v: f"v{v}") if c.address.field is Field.ALIAS else (lambda v: repr(short(v)))
    before = "" if c.before is None else fmt(c.before)
    after = "" if c.after is None else fmt(c.after)
    return before, after


def line(c: Change) -> str:
    before, after = _values(c)
    if c.action is Action.CREATE:
        body = f"{label(c)} = {after}"
    elif c.action is Action.DELETE:
        body = f"{label(c)} (was {before})"
    else:
        body = f"{label(c)}: {before} -> {after}"
    return f"{c.action.symbol} {body}" + (f"   ({c.reason})" if c.reason else "")


def _note_summary(notes: Sequence[Note]) -> str:
    models = sum(1 for n in notes if n.address.field is Field.MODEL)
    other = len(notes) - models
    return (
        f"Reported, not changed: {other} tag(s)/alias(es) only in the registry, "
        f"{models} registered model(s) without a file."
    )


def to_text(plan: Plan, console: Console, target: str = "") -> None:
    if target:
        console.print(Text(f"Registry: {target}", style="dim"))
    for model, changes in plan.by_model().items():
        console.print(Text(f"\n  {model}", style="bold"))
        for c in changes:
            console.print(Text(f"    {line(c)}", style=STYLES[c.action]))
    console.print()
    console.print(Text(summary(plan), style="bold"))
    if plan.notes:
        console.print(Text(_note_summary(plan.notes), style="dim"))
        for n in plan.notes[:MAX_NOTES_SHOWN]:
            console.print(Text(f"    ? {n.address}: {n.message}", style="dim"))
        if len(plan.notes) > MAX_NOTES_SHOWN:
            console.print(Text(f"    … and {len(plan.notes) - MAX_NOTES_SHOWN} more (see --format json)", style="dim"))


def _md_cell(value: str) -> str:
    return value.replace("|", "\\|").replace("`", "'") if value else ""


def to_markdown(plan: Plan) -> str:
    out = ["### Model registry plan", "", f"**{summary(plan)}**", ""]
    for model, changes in plan.by_model().items():
        out += [f"#### `{model}`", "", "| | change | before | after | why |", "|---|---|---|---|---|"]
        for c in changes:
            before, after = _values(c)
            out.append(
                f"| {c.action.symbol} | `{label(c)}` | {_md_cell(before)} | {_md_cell(after)} | {c.reason or ''} |"
            )
        out.append("")
    if plan.notes:
        out += [f"<details><summary>{_note_summary(plan.notes)}</summary>", ""]
        out += [f"- `{n.address}`: {_md_cell(n.message)}" for n in plan.notes[:100]]
        if len(plan.notes) > 100:
            out.append(f"- … and {len(plan.notes) - 100} more")
        out += ["", "</details>", ""]
    out.append(f"<sub>plan `{plan.plan_hash}` · live state `{plan.live_fingerprint}`</sub>")
    return "\n".join(out) + "\n"


def to_json(plan: Plan) -> str:
    return json.dumps(plan.to_json(), indent=2, sort_keys=False) + "\n"


RENDERERS = {"markdown": to_markdown, "json": to_json}
