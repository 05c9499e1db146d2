"""The plan comment's Markdown: a status line, the plan, the gates table, the approvals, a footer and
the hidden data block, each part between hidden section markers so a review event can replace the
status and the approvals and keep the rest."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.errors import DesiredStateError
from reconciler.github.comment import MARKER, section
from reconciler.github.context import Actions
from reconciler.github.judge import Judgement
from reconciler.github.markdown import CUT_NOTE, MAX_BODY, cut, join, link, short
from reconciler.text import md_code, plural

TITLE = "## Model registry: this pull request"
READY = "**Ready to merge:** every required approval is in{gates}. Merging applies exactly this plan."
BLOCKED = "**Not ready to merge:** {why} (below). The status check `{context}` fails until then."


def status_line(judgement: Judgement, context: str, gates_shown: bool) -> str:
    """One line from counts only (the details, with every name escaped, are in the sections)."""
    if judgement.ok:
        return READY.format(gates=" and every metric gate passes" if gates_shown else "")
    why = []
    failed = sum(1 for g in judgement.gates if not g.passed)
    if failed:
        why.append(f"{plural(failed, 'metric gate')} failed")
    smoke_failed = sum(1 for r in judgement.smoke if not r.ok)
    if smoke_failed:
        why.append(f"{plural(smoke_failed, 'smoke test')} failed")
    if not failed and not smoke_failed and not judgement.gates_ok:
        why.append("a metric gate or smoke test failed")
    missing = len(judgement.verdict.failing())
    if missing:
        why.append(f"{plural(missing, 'approval requirement')} not met")
    return BLOCKED.format(why="; ".join(why), context=context)


def footer(actions: Actions, head: str, base: str, event: str) -> str:
    return (
        f"<sub>For head {short(head)} on base {short(base)}, {event} ({link('run', actions.run_url)}). "
        "Rules and owners are the base branch's. Every push re-plans; every review re-counts the approvals; "
        "the merge applies this plan, or nothing if the plan at merge time differs.</sub>"
    )


def plan_comment(
    status: str, plan_md: str, gates_md: str, approvals_md: str, foot: str, data_block: str, smoke_md: str = ""
) -> str:
    head = [MARKER, TITLE, section("status", status)]
    smoke = [section("smoke", smoke_md)] if smoke_md else []  # only when a protected move was smoke-tested
    tail = [section("gates", gates_md), *smoke, section("approvals", approvals_md), section("footer", foot), data_block]
    room = MAX_BODY - len(join([*head, section("plan", ""), *tail]))
    return join([*head, section("plan", cut(plan_md, room, CUT_NOTE.format(where="this run"))), *tail])


def replace_section(body: str, name: str, text: str) -> str:
    start, end = f"<!-- reconciler:{name} -->\n", f"\n<!-- /reconciler:{name} -->"
    i = body.find(start)
    j = body.find(end, i + len(start)) if i >= 0 else -1
    if i < 0 or j < 0:
        return body
    return body[: i + len(start)] + text.rstrip("\n") + body[j:]


def invalid_list(errors: Sequence[DesiredStateError], limit: int = 50) -> str:
    lines = [f"- {md_code(str(e))}" for e in errors[:limit]]
    if len(errors) > limit:
        lines.append(f"- … and {len(errors) - limit} more (see the job log)")
    return "\n".join(lines)


def invalid_comment(errors: Sequence[DesiredStateError], foot: str) -> str:
    text = (
        "**Not ready to merge:** the files do not validate, so there is no plan yet. "
        "Fix these and push (`reconciler validate --offline` checks them locally):\n\n" + invalid_list(errors)
    )
    return "\n\n".join([MARKER, TITLE, section("status", text), foot]) + "\n"


def no_models_comment(foot: str) -> str:
    text = "This pull request no longer changes any file in `models/`: there is nothing to plan or approve."
    return "\n\n".join([MARKER, TITLE, section("status", text), foot]) + "\n"
