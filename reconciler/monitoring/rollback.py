"""A rollback proposal, the pure half: the model file with the alias pointed back at the version
that held it before (the round-trip writer: comments and layout stay), and the pull request's body
with the evidence (the metric against its threshold over the window, a Mermaid xychart-beta GitHub
renders, the versions, the audit record of the promotion it reverts). Every value from files, the
registry or the runs is shown through md_code; the chart holds only numbers and sanitised labels."""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from reconciler.errors import DesiredStateError
from reconciler.files.convert import check_semantics, from_document
from reconciler.files.desired import check_document
from reconciler.files.importer import round_trip_yaml
from reconciler.files.yamlsource import parse
from reconciler.monitoring.evaluate import ModelHealth, ThresholdResult
from reconciler.monitoring.served import Promotion
from reconciler.state import DesiredModel, HealthRule, Origin
from reconciler.text import line_endings, md_code

MARKER = "<!-- reconciler-rollback -->"
MAX_POINTS = 48
_LABEL = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class FileEdit:
    """What a rollback proposal commits: `path` (from the repository root) from `before` to `after`."""

    model: str
    path: str
    before: str
    after: str
    branch: str
    title: str
    body: str


@dataclass(frozen=True)
class Skipped:
    model: str
    action: str  # not opted in, nothing to roll back to, refused
    why: str


def plan(h: ModelHealth, model: DesiredModel, p: Promotion | None, root: Path) -> FileEdit | Skipped:
    """The rollback of one breached model, or why there is none: what `github propose-rollback`
    commits and `health --rollback-diff` shows. Reads the model file; writes nothing."""
    if model.monitoring is None or not model.monitoring.rollback:
        return Skipped(h.model, "not opted in", f"{model.source}: set monitoring.rollback: true to have it proposed")
    if p is None or p.previous is None:
        return Skipped(h.model, "nothing to roll back to", no_previous(h, p))
    path = Path(model.source) if Path(model.source).is_absolute() else root / model.source
    try:
        rel = path.resolve().relative_to(root.resolve()).as_posix()
        with path.open(encoding="utf-8", newline="") as f:  # as it is: CRLF kept for rolled_back
            before = f.read()
        after = rolled_back(before, rel, p.alias, p.previous)
    except ValueError:
        return Skipped(h.model, "refused", f"{model.source}: not inside {root}; run from the repository root")
    except (OSError, DesiredStateError) as e:
        return Skipped(h.model, "refused", str(e))
    return FileEdit(h.model, rel, before, after, branch(h.model), title(h, p), body(h, p))


def branch(model: str) -> str:
    """One branch per model (names may hold anything a branch may not): the proposal is updated, never repeated."""
    return "reconciler/rollback/" + hashlib.sha256(model.encode()).hexdigest()[:16]


def title(h: ModelHealth, p: Promotion) -> str:
    return f"Roll back {h.model} {p.alias}: v{h.version} -> v{p.previous}"


def rolled_back(text: str, source: str, alias: str, previous: int) -> str:
    """The file with `aliases.<alias>` set to `previous`; refused (one line) if the result would not load."""
    parse(text, source)  # the strict reading first: tags, bombs, bad bytes are refused before any edit
    yaml = round_trip_yaml()
    lf, newline = line_endings(text, source)
    data = yaml.load(lf)
    aliases = data.get("aliases")
    if aliases is None or alias not in aliases:
        raise DesiredStateError(f"{source}: sets no alias {alias!r} to roll back; nothing to propose")
    aliases[alias] = previous
    buf = io.StringIO()
    yaml.dump(data, buf)
    out = buf.getvalue().replace("\n", newline)
    doc = parse(out, source)
    check_document(doc)
    check_semantics(from_document(doc.data, Origin(source, doc.line)))
    return out


def no_previous(h: ModelHealth, p: Promotion | None) -> str:
    """Why nothing is proposed for a breached model."""
    if p is None:
        return f"{h.model}: the audit journal holds no apply that gave the alias to v{h.version}; roll back by hand"
    return f"{h.model}: v{h.version} was the first holder of {p.alias!r}; there is no version to roll back to"


def body(h: ModelHealth, p: Promotion) -> str:
    breached = h.breached()
    lines = [
        MARKER,
        f"## {md_code(title(h, p))}",
        "",
        f"`reconciler health` found {md_code(h.model)} v{h.version} in breach over the {md_code(h.window)} "
        f"({h.samples:g} samples). This pull request points {md_code(p.alias)} back at v{p.previous}, the version "
        "that held it before. Nothing changes in the registry until it is reviewed and merged like any other change.",
        "",
        "### Evidence",
        "",
        "| metric | value | rule | replaced version | result |",
        "|---|---|---|---|---|",
        *(_row(r) for r in h.results),
        "",
    ]
    for r in breached[:3]:
        lines += _chart(h, r)
    lines += [
        "### Versions",
        "",
        f"- now: v{h.version} (breached)",
        f"- proposed: v{p.previous} (held {md_code(p.alias)} before the promotion below)",
        "",
        "### The promotion this reverts (audit journal)",
        "",
        f"- journal run: {md_code(p.run_id)}",
        f"- applied at: {md_code(p.audit.applied_at)} by {md_code(p.audit.actor or 'unknown')}",
        f"- commit: {md_code(p.audit.commit or 'none recorded')}; "
        f"pull request: {md_code(p.audit.pull_request or 'none')}",
        f"- approved by: {', '.join(md_code(a) for a in p.audit.approvers) or 'nobody recorded'}",
        "",
        f"<sub>Proposed by `reconciler github propose-rollback` at {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; "
        "updated, not repeated, while the breach lasts.</sub>",
    ]
    return "\n".join(lines) + "\n"


def _row(r: ThresholdResult) -> str:
    value = md_code(f"{r.value:.4g}") if r.value is not None else ""
    old = md_code(f"{r.replaced_value:.4g}") if r.replaced_value is not None else ""
    result = "✅ pass" if r.passed else ("❌ breach" if r.passed is False else "⚠️ not judged")
    why = f": {md_code(r.reason)}" if r.reason and r.passed is not True else ""
    return f"| {md_code(r.threshold.metric)} | {value} | {md_code(r.rule())} | {old} | {result}{why} |"


def _chart(h: ModelHealth, r: ThresholdResult) -> list[str]:
    points = list(h.series.get(r.threshold.metric, ()))[-MAX_POINTS:]
    if not points:
        return []
    label = _LABEL.sub("_", r.threshold.metric)[:60] or "metric"
    hours = [datetime.fromtimestamp(t / 1000, timezone.utc).strftime("%d %H:%M") for t, _ in points]
    values = [v for _, v in points]
    limit, what = _limit(h, r)
    line = [limit] * len(values) if limit is not None else []
    low, high = min([*values, *line]), max([*values, *line])
    pad = (high - low) * 0.1 or 1.0
    out = [
        "```mermaid",
        "xychart-beta",
        f'    title "{label} per window (v{h.version})"',
        "    x-axis [" + ", ".join(f'"{x}"' for x in hours) + "]",
        f'    y-axis "{label}" {low - pad:.4g} --> {high + pad:.4g}',
        "    line [" + ", ".join(f"{v:.4g}" for v in values) + "]",
    ]
    if line:
        out.append("    line [" + ", ".join(f"{v:.4g}" for v in line) + "]")
    caption = f"the first line is the value per window, the second {what}" if line else "the value per window"
    return [*out, "```", "", f"<sub>{md_code(label)}: {caption}.</sub>", ""]


def _limit(h: ModelHealth, r: ThresholdResult) -> tuple[float | None, str]:
    """The line a window's value is judged against: the threshold, or for a rule relative to the
    replaced version, that version's value moved by the allowed margin (a breach of one has it)."""
    t = r.threshold
    if t.rule is not HealthRule.NO_WORSE_THAN_REPLACED_BY:
        return t.value, "the threshold"
    if r.replaced_value is None:
        return None, ""
    sign = "+" if t.lower_is_better else "-"
    limit = r.replaced_value + t.value if t.lower_is_better else r.replaced_value - t.value
    return limit, f"the threshold (v{h.replaced}'s {r.replaced_value:.4g} {sign} {t.value:g})"
