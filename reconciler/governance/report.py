"""Markdown for the pull-request comment: the approvals section and the gates table; and the
commit status. Every value from files, the registry or GitHub (logins, team names, model names,
metric names, reasons) is shown through `reconciler.text.md_code`, so none of it can open an
HTML comment, a tag, a table cell, a link or a mention.
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.governance.approvals import RequirementVerdict, Verdict, clip, either
from reconciler.governance.gates import GateResult, number
from reconciler.text import md_code, plural, printable

PASS, FAIL = "✅", "❌"
STATUS_CONTEXT = "registry/policy"
STATUS_MAX = 140
MAX_NOT_COUNTED = 10  # reviews listed as not counting, per requirement


def _codes(items: Sequence[str]) -> str:
    return ", ".join(md_code(i) for i in items) if items else "nobody"


def approvals_markdown(verdict: Verdict) -> str:
    out = ["### Approvals", ""]
    if not verdict.results:
        return "\n".join([*out, "No approvals needed: this pull request changes no file in models/.", ""])
    failing = verdict.failing()
    head = "All required approvals are in." if not failing else f"{plural(len(failing), 'requirement')} not met."
    out += [f"**{PASS if not failing else FAIL} {head}**", ""]
    out += ["| | file | why | needs | from | approved by |", "|---|---|---|---|---|---|"]
    out += [_row(r) for r in verdict.results]
    out.append("")
    out += [f"- {FAIL} {md_code(r.requirement.subject)}: {_message(r)}{_not_counted(r)}" for r in failing]
    return "\n".join(out).rstrip("\n") + "\n"


def _row(r: RequirementVerdict) -> str:
    req = r.requirement
    cells = [
        PASS if r.ok else FAIL,
        md_code(req.subject),
        req.why + (": " + _codes(req.targets) if req.targets else ""),
        str(req.approvals),
        _codes(req.groups),
        _codes(r.counted) if r.counted else "",
    ]
    return "| " + " | ".join(cells) + " |"


def _message(r: RequirementVerdict) -> str:
    """RequirementVerdict.message(), with every name in <code>."""
    parts = []
    if r.blocked_by:
        parts.append(f"changes requested by {_codes(r.blocked_by)}")
    if r.missing and not r.requirement.groups:
        parts.append("nobody can approve it: the base branch names no approvers for it")
    elif r.missing:
        more = " more" if r.counted else ""
        word = "approval" if r.missing == 1 else "approvals"
        who = either([md_code(g) for g in r.requirement.groups])
        parts.append(f"needs {r.missing}{more} {word} from {who}")
    if r.unresolved_teams:
        parts.append(f"members of {_codes(r.unresolved_teams)} could not be read")
    return "; ".join(parts)


def _commit(sha: str) -> str:
    return f": {md_code(sha[:12])}" if sha else ""


def _not_counted(r: RequirementVerdict) -> str:
    if not r.not_counted:
        return ""
    shown = [f"{md_code(n.user)} ({n.reason}{_commit(n.commit)})" for n in r.not_counted]
    if len(shown) > MAX_NOT_COUNTED:
        shown = [*shown[:MAX_NOT_COUNTED], f"and {len(shown) - MAX_NOT_COUNTED} more"]
    return ". Not counted: " + "; ".join(shown)


def gates_markdown(results: Sequence[GateResult]) -> str:
    """The gates table; "" when no protected move has gates."""
    if not results:
        return ""
    failed = sum(1 for r in results if not r.passed)
    head = "All metric gates pass." if not failed else f"{plural(failed, 'metric gate')} failed."
    out = ["### Metric gates", "", f"**{PASS if not failed else FAIL} {head}**", ""]
    out += ["| model | version | to | metric | candidate | current | rule | result |", "|---" * 8 + "|"]
    for r in results:
        m = r.move
        current = f"v{m.current}" if m.current is not None else "none"
        cells = [
            md_code(m.model),
            f"v{m.candidate}",
            f"{md_code(m.target)} (now {current})",
            md_code(r.gate.metric),
            md_code(number(r.candidate)) if r.candidate is not None else "",
            md_code(number(r.current)) if r.current is not None else "",
            md_code(r.rule()),
            (PASS + " pass" if r.passed else FAIL + " fail") + (f": {md_code(r.reason)}" if r.reason else ""),
        ]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def status(verdict: Verdict, gates: Sequence[GateResult]) -> tuple[str, str]:
    """The commit status: ("success" | "failure", a plain-text description of at most 140 characters)."""
    failed = [r for r in gates if not r.passed]
    if verdict.ok and not failed:
        passing = f"; {plural(len(gates), 'metric gate')} pass" if gates else ""
        return "success", clip(verdict.status_description() + passing, STATUS_MAX)
    parts = []
    if failed:
        f = failed[0]
        parts.append(f"{plural(len(failed), 'gate')} failed: {f.move.model} v{f.move.candidate} {f.gate.metric}")
    if not verdict.ok:
        parts.append(verdict.status_description())
    return "failure", clip(printable("; ".join(parts)), STATUS_MAX)
