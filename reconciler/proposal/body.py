"""The proposal pull request's title and body (GitHub Markdown). Every value from the registry or a
run goes through md_code (masked, escaped), so a hostile param or tag is text, never markup.

The body ends with a marker the next run reads: which version it proposes, the branch tip and the
base it was made from, and a digest of the body. A body or branch that no longer matches the
marker was edited by hand, and is reported instead of overwritten (reconciler/github/proposals.py).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from reconciler.governance.gates import number
from reconciler.proposal.evidence import Evidence
from reconciler.text import md_code

MARKER_PREFIX = "<!-- reconciler-proposal "
_MARKER = re.compile(r"\n?<!-- reconciler-proposal (\{[^\n]*\}) -->\s*\Z")
MAX_PARAMS = 50


@dataclass(frozen=True)
class Marker:
    model: str
    version: int
    head: str  # the branch tip this run committed
    base: str  # the base branch tip it was made from
    digest: str  # sha256 of the body above the marker


def title(e: Evidence) -> str:
    return f"Propose {e.model} v{e.candidate} as {e.proposes}"


def render(e: Evidence, path: str) -> str:
    """The body above the marker."""
    parts = [
        f"Training registered **version {e.candidate}** of {md_code(e.model)}. This pull request gives it "
        f"{md_code(e.proposes)} in {md_code(path)}; nothing changes in the registry until it is merged.",
        _run(e),
        _comparison(e),
        _gates(e),
        "The plan comment follows, as for any pull request that changes `models/`. A newer training run "
        "of this model updates this pull request instead of opening another.",
    ]
    return "\n\n".join(p for p in parts if p) + "\n"


def with_marker(body: str, marker: Marker) -> str:
    data = {"model": marker.model, "version": marker.version, "head": marker.head, "base": marker.base}
    data["digest"] = digest(body)
    return f"{body}\n{MARKER_PREFIX}{json.dumps(data, sort_keys=True)} -->\n"


def digest(body: str) -> str:
    return hashlib.sha256(body.replace("\r\n", "\n").strip().encode()).hexdigest()


def read_marker(text: str | None) -> tuple[Marker, bool] | None:
    """The marker and whether the body above it is as the reconciler wrote it; None: no marker."""
    found = _MARKER.search(text or "")
    if found is None:
        return None
    try:
        d = json.loads(found.group(1))
        marker = Marker(str(d["model"]), int(d["version"]), str(d["head"]), str(d["base"]), str(d["digest"]))
    except (ValueError, KeyError, TypeError):
        return None
    return marker, digest((text or "")[: found.start()]) == marker.digest


def _run(e: Evidence) -> str:
    run = e.run
    if run is None:
        return "### Training run\n\nThe version has no training run."
    where = f"[{md_code(run.run_id)}]({run.link})" if run.link and _safe_link(run.link) else md_code(run.run_id)
    lines = [f"### Training run\n\nRun {where}, status {md_code(run.status)}."]
    if run.datasets:
        lines.append("Datasets: " + ", ".join(md_code(d) for d in run.datasets) + ".")
    lineage = [f"{md_code(k)} = {md_code(v)}" for k, v in sorted(run.tags.items()) if k.startswith("lineage.")]
    if lineage:
        lines.append("Lineage: " + "; ".join(lineage) + ".")
    if run.params:
        shown = sorted(run.params.items())[:MAX_PARAMS]
        rows = "\n".join(f"| {md_code(k)} | {md_code(v)} |" for k, v in shown)
        more = f"\n\n… and {len(run.params) - MAX_PARAMS} more parameters." if len(run.params) > MAX_PARAMS else ""
        lines.append(f"| parameter | value |\n|---|---|\n{rows}{more}")
    return "\n\n".join(lines)


def _safe_link(link: str) -> bool:
    return link.startswith(("http://", "https://")) and not any(c in link for c in " ()<>[]\"'\n")


def _comparison(e: Evidence) -> str:
    metrics = e.metrics()
    if not metrics:
        return "### Comparison\n\nNo metrics were logged."
    head = "| version | holds | " + " | ".join(md_code(m) for m in metrics) + " |"
    rule = "|---|---|" + "---|" * len(metrics)
    rows = [head, rule]
    for n in e.compared():
        run = e.view.versions[n].run
        holds = ", ".join(md_code(t) for t in e.holders(n)) or ("candidate" if n == e.candidate else "")
        cells = [_cell(run.metrics.get(m) if run else None, e.best(m) == n) for m in metrics]
        rows.append(
            f"| v{n}{' (candidate)' if n == e.candidate and holds != 'candidate' else ''} | {holds} | "
            + " | ".join(cells)
            + " |"
        )
    lower = sorted(set(metrics) & e.lower_is_better)
    note = (
        f"\n\nBest value in bold; lower is better for {', '.join(md_code(m) for m in lower)}."
        if lower
        else ("\n\nBest value in bold (higher is better).")
    )
    return "### Comparison\n\n" + "\n".join(rows) + note


def _cell(value: float | None, best: bool) -> str:
    if value is None:
        return "-"
    text = number(value)
    return f"**{text}**" if best else text


def _gates(e: Evidence) -> str:
    if not e.protected_targets:
        return "### Gates\n\nThe review policy protects no alias or stage of this model."
    if not e.gates:
        targets = ", ".join(md_code(t) for t in e.protected_targets)
        return f"### Gates\n\nPromoting it to {targets} needs the protected approvals; the policy sets no metric gates."
    rows = ["| promotion to | metric | rule | candidate | current | passes |", "|---|---|---|---|---|---|"]
    for r in e.gates:
        cand = number(r.candidate) if r.candidate is not None else "-"
        cur = number(r.current) if r.current is not None else "-"
        ok = "yes" if r.passed else "**no**"
        why = f" ({md_code(r.reason)})" if r.reason else ""
        where = f"| {md_code(r.move.target)} | {md_code(r.gate.metric)} | {md_code(r.rule())} |"
        rows.append(f"{where} {cand} | {cur} | {ok}{why} |")
    verdict = "passes every gate" if e.passes() else "does **not** pass every gate"
    return (
        "### Gates\n\nWhat the review policy will check when a later pull request promotes this version; "
        f"today the candidate {verdict}.\n\n" + "\n".join(rows)
    )
