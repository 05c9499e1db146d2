"""Schema-valid review documents (plain values) -> typed values, and back. Pure: no I/O.

Shared by the policy file (models/_policy.yaml) and a model file's `review:` block. The rules a
schema says badly are checked here: a gate has exactly one rule, `lower_is_better` goes with
`no_worse_than_current_by`, numbers are finite.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from reconciler.errors import DesiredStateError
from reconciler.state import Gate, GateRule, ReviewBlock, Stage, TierTightening

# where(*json_path) -> "file:line: /json/pointer" for a message
Where = Callable[..., str]
RULES = tuple(r.value for r in GateRule)


def gate(doc: Mapping[str, Any], where: Where, path: tuple[Any, ...]) -> Gate:
    rules = [r for r in RULES if r in doc]
    if len(rules) != 1:
        found = ", ".join(rules) or "none"
        raise DesiredStateError(
            f"{where(*path)}: a gate has exactly one of {', '.join(RULES)} (found: {found}); "
            "write one gate per rule, each with its metric"
        )
    rule = GateRule(rules[0])
    value = doc[rule.value]
    if not math.isfinite(value):
        raise DesiredStateError(f"{where(*path, rule.value)}: {value!r} is not a finite number; give a number")
    lower = bool(doc.get("lower_is_better", False))
    if "lower_is_better" in doc and rule is not GateRule.NO_WORSE_THAN_CURRENT_BY:
        raise DesiredStateError(
            f"{where(*path, 'lower_is_better')}: lower_is_better applies to no_worse_than_current_by only; "
            "at_least and at_most already say which way is better: remove it"
        )
    return Gate(doc["metric"], rule, float(value), lower)


def gates(docs: Sequence[Mapping[str, Any]], where: Where, path: tuple[Any, ...]) -> tuple[Gate, ...]:
    return tuple(gate(d, where, (*path, i)) for i, d in enumerate(docs))


def tightening(doc: Mapping[str, Any]) -> TierTightening:
    from_ = doc.get("from")
    return TierTightening(doc.get("approvals"), tuple(from_) if from_ is not None else None)


def review_block(doc: Mapping[str, Any], where: Where) -> ReviewBlock:
    protected = doc.get("protected", {})
    return ReviewBlock(
        changes=tightening(doc.get("changes", {})),
        protected=tightening(protected),
        aliases=frozenset(protected.get("aliases", ())),
        stages=frozenset(Stage(s) for s in protected.get("stages", ())),
        gates=gates(protected.get("gates", ()), where, ("review", "protected", "gates")),
    )


def gate_document(g: Gate) -> dict[str, Any]:
    doc: dict[str, Any] = {"metric": g.metric, g.rule.value: g.value}
    if g.lower_is_better:
        doc["lower_is_better"] = True
    return doc


def _tightening_document(t: TierTightening) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    if t.approvals is not None:
        doc["approvals"] = t.approvals
    if t.from_ is not None:
        doc["from"] = list(t.from_)
    return doc


def review_document(r: ReviewBlock) -> dict[str, Any]:
    """ReviewBlock -> the file format; {} when the block is empty."""
    doc: dict[str, Any] = {}
    changes = _tightening_document(r.changes)
    if changes:
        doc["changes"] = changes
    protected = _tightening_document(r.protected)
    if r.aliases:
        protected["aliases"] = sorted(r.aliases)
    if r.stages:
        protected["stages"] = sorted(s.value for s in r.stages)
    if r.gates:
        protected["gates"] = [gate_document(g) for g in r.gates]
    if protected:
        doc["protected"] = protected
    return doc
