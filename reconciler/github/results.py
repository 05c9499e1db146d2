"""Comments apply on merge posts on the pull request: the result of an apply, or why nothing was."""

from __future__ import annotations

import html
from collections.abc import Sequence

from reconciler.apply import execute
from reconciler.apply.writer import Result
from reconciler.github.comment import APPLY_MARKER
from reconciler.github.context import Actions
from reconciler.github.markdown import join, link, short
from reconciler.masking import clip
from reconciler.plan import render
from reconciler.text import md_code, plural


def _merge_mark(sha: str) -> str:
    return f"<!-- merge {sha} -->"


def applied_comment(actions: Actions, sha: str, report: execute.Report, approvers: Sequence[str], reviewed: int) -> str:
    failed, unrecorded = report.failed(), report.unrecorded()
    complete = not failed and not unrecorded and report.lock_lost is None and report.journal_open is None
    head = "Applied" if complete else "Applied in part"
    lines = [
        APPLY_MARKER,
        f"### {head}: merge {short(sha)} ({link('run', actions.run_url)})",
        _counts(report, approvers, reviewed),
    ]
    if report.lock_lost is not None:
        lines.append(f"**The apply stopped:** {md_code(clip(report.lock_lost, 300))}; nothing more was written.")
    if failed:
        lines += ["**Not applied:**", "\n".join(_result_line(r) for r in failed)]
    if unrecorded:
        lines += ["**Applied, but the audit record was not written:**", "\n".join(_result_line(r) for r in unrecorded)]
    if report.journal_open is not None:
        lines.append(
            f"**The audit journal's entry of this apply was not closed:** {md_code(clip(report.journal_open, 300))}; "
            "the next apply closes it."
        )
    if failed or unrecorded or report.journal_open is not None:
        lines.append("Fix the cause and re-run the apply job: it applies and records only what is still missing.")
    lines.append(f"<details><summary>The plan applied</summary>\n\n{render.to_markdown(report.plan)}\n</details>")
    return join(lines) + _merge_mark(sha) + "\n"


def _counts(report: execute.Report, approvers: Sequence[str], reviewed: int) -> str:
    total = len(report.results)
    applied = total - len(report.failed())
    recorded = len(report.records) - len(report.unrecorded())
    earlier = (
        f" ({reviewed - total} of the {reviewed} reviewed were in the registry already)" if reviewed > total else ""
    )
    who = ", ".join(md_code(a) for a in approvers) or "nobody"
    return (
        f"{plural(applied, 'change')} applied of {total}{earlier}; audit records on "
        f"{plural(recorded, 'entity', 'entities')} name this pull request, the merge commit, the plan "
        f"{md_code(report.plan.plan_hash[:19] + '…')} and the approvers: {who}."
    )


def _result_line(r: Result) -> str:
    return f"- {r.outcome.value}: {md_code(str(r.change.address))}: {md_code(clip(r.error or '', 300))}"


def refusal_comment(actions: Actions, sha: str, why: str, todo: str, details: Sequence[str]) -> str:
    """`why` and `todo`: the command's own text (plain); `details`: Markdown, every value escaped."""
    lines = [
        APPLY_MARKER,
        f"### Not applied: merge {short(sha)} ({link('run', actions.run_url)})",
        f"**Nothing was written to the registry:** {_plain(why)}.",
        *details,
        f"**What to do:** {_plain(todo)}.",
    ]
    return join(lines) + _merge_mark(sha) + "\n"


def _plain(text: str) -> str:
    """Our own sentences, made inert anyway: no HTML, no mention, no link."""
    return html.escape(text).replace("@", "&#64;").replace("[", "&#91;").replace("`", "&#96;")
