"""A model file's `review:` block: its JSON Schema, and schema-valid review documents (plain values)
-> typed values (reconciler/reviewblock.py), and back. Pure: no I/O.

Shared by the policy file (models/_policy.yaml) and a model file's `review:` block. The rules a
schema says badly are checked here: a gate has exactly one rule, `lower_is_better` goes with
`no_worse_than_current_by`, numbers are finite.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from reconciler.errors import DesiredStateError
from reconciler.fields.fragments import ALIAS_NAME, OWNER
from reconciler.reviewblock import Gate, GateRule, ReviewBlock, TierTightening
from reconciler.state import Stage

MODEL_OWNERS = "model-owners"
MAX_APPROVALS = 50
# MLflow's metric names: letters, digits, _ - . / : and spaces (ASCII here, as for tag keys).
METRIC_NAME: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "maxLength": 250,
    "pattern": r"^(?!.*\n)[A-Za-z0-9_./ :-]+$",
    "description": "A metric of the version's training run, as MLflow names it.",
}
PROTECTED_STAGES = ["Staging", "Production"]


def _from() -> dict[str, Any]:
    return {
        "description": f'Who may approve: "{MODEL_OWNERS}" (the model file\'s owners on the base branch), '
        'a GitHub login (alice, or @alice for a user literally named model-owners), or a team ("@org/team").',
        "type": "array",
        "minItems": 1,
        "uniqueItems": True,
        "items": {"anyOf": [{"const": MODEL_OWNERS}, OWNER]},
    }


def _approvals(minimum: int) -> dict[str, Any]:
    return {
        "description": "How many approvals, from different reviewers in `from`, the change needs.",
        "type": "integer",
        "minimum": minimum,
        "maximum": MAX_APPROVALS,
    }


def gate_schema() -> dict[str, Any]:
    return {
        "description": "One rule on one metric of the candidate version's training run: at_least, at_most, or "
        "no_worse_than_current_by (against the version that holds the alias or stage now; higher is better "
        "unless lower_is_better). Give exactly one rule per gate. A missing run or metric fails the gate.",
        "type": "object",
        "additionalProperties": False,
        "required": ["metric"],
        "properties": {
            "metric": METRIC_NAME,
            "at_least": {"type": "number"},
            "at_most": {"type": "number"},
            "no_worse_than_current_by": {"type": "number", "minimum": 0},
            "lower_is_better": {"type": "boolean", "description": "For no_worse_than_current_by: a loss."},
        },
    }


def changes_schema() -> dict[str, Any]:
    return {
        "description": "What any change to a model file needs.",
        "type": "object",
        "additionalProperties": False,
        "properties": {"approvals": _approvals(0), "from": _from()},
    }


def protected_schema() -> dict[str, Any]:
    return {
        "description": "Moves of these aliases (create, update, delete) and stages (into or out of) need these "
        "approvals too, and the candidate version must pass the gates.",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "aliases": {"type": "array", "uniqueItems": True, "items": ALIAS_NAME},
            "stages": {"type": "array", "uniqueItems": True, "items": {"enum": PROTECTED_STAGES}},
            "approvals": _approvals(1),
            "from": _from(),
            "gates": {"type": "array", "items": gate_schema()},
        },
    }


def review_block_schema() -> dict[str, Any]:
    """A model file's `review:`: the same shape as the policy's tiers, and it may only tighten them."""
    return {
        "description": "Stricter review rules for this model than models/_policy.yaml: more approvals, fewer "
        "approvers (a subset of the policy's `from`), more protected aliases and stages, more gates. "
        "Anything that loosens the policy is an error. Judged from the base branch's version of this file.",
        "type": "object",
        "additionalProperties": False,
        "properties": {"changes": changes_schema(), "protected": protected_schema()},
    }


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
