"""Metric gates on protected moves, judged at plan time. Pure: the runs come in `LiveState.runs`.

A protected move that gives an alias or a stage to a version (alias created or moved, a version
into a protected stage) must pass the model's gates: the candidate's training-run metric against
a threshold (at_least, at_most) or against the version that holds the alias or stage now
(no_worse_than_current_by; for stages, the holder `models:/<name>/<stage>` serves: the newest
version in it). A missing run or metric fails, with the reason; with no current holder a relative
gate passes ("no current version to compare").
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from reconciler.fields import Kind
from reconciler.governance.policy import ModelRules, ReviewPolicy, combined, guarded, plain
from reconciler.plan.values import Action, Change, Plan
from reconciler.reviewblock import Gate, GateRule
from reconciler.state import DesiredModel, LiveModel, LiveState, Run

NO_CURRENT = "no current version to compare"
REL_TOL = 1e-9  # a relative gate's difference is a subtraction of floats: 0.9 - 0.89 is 0.010000000000000009


@dataclass(frozen=True)
class Move:
    """A protected move that gives `target` ("alias champion", "stage Production") to `candidate`."""

    model: str
    target: str
    candidate: int
    current: int | None  # the version holding it now; None: nobody


@dataclass(frozen=True)
class GateResult:
    """One row of the gates table."""

    move: Move
    gate: Gate
    candidate: float | None
    current: float | None
    passed: bool
    reason: str = ""  # why it failed, or why a relative gate passed without comparing

    def rule(self) -> str:
        return describe(self.gate)


def describe(g: Gate) -> str:
    """`>= 0.9`, `<= 12.5`, `>= current - 0.01`, `<= current + 0.5` (what the candidate must be)."""
    if g.rule is GateRule.AT_LEAST:
        return f">= {number(g.value)}"
    if g.rule is GateRule.AT_MOST:
        return f"<= {number(g.value)}"
    return f"<= current + {number(g.value)}" if g.lower_is_better else f">= current - {number(g.value)}"


def number(x: float) -> str:
    return repr(x)  # the shortest text that reads back as the same float: nothing rounded away


def gated_moves(
    plan: Plan, live: LiveState, base_models: Mapping[str, DesiredModel], base_policy: ReviewPolicy
) -> Iterator[tuple[Move, ModelRules]]:
    return ((m, r) for m, r in protected_moves(plan, live, base_models, base_policy) if r.protected.gates)


def protected_moves(
    plan: Plan, live: LiveState, base_models: Mapping[str, DesiredModel], base_policy: ReviewPolicy
) -> Iterator[tuple[Move, ModelRules]]:
    """Every protected move that gives an alias or stage to a version (gated or not: smoke tests too)."""
    for name, changes in plan.by_model().items():
        rules = combined(base_policy, base_models.get(name), name)
        live_model = live.models.get(name)
        if live_model is None:
            continue
        for c in changes:
            move = _move(c, rules, live_model) if rules.protects(c) else None
            if move is not None:
                yield move, rules


def _move(c: Change, rules: ModelRules, live: LiveModel) -> Move | None:
    """What a protected change gives to which version: a map entry (an alias) to the version it names,
    a version's value (a stage) to that version, taken from the newest other version holding it."""
    a, f = c.address, guarded(c)
    if c.action is Action.DELETE or f is None:
        return None
    if f.kind is Kind.MAP:
        return Move(a.model, f"{f.name} {a.key}", int(c.after), int(c.before) if c.before is not None else None)
    value = plain(f, c.after)
    if a.version is None or value not in rules.protected_names(f):
        return None  # a move out of a protected value gives nothing
    holders = [n for n, v in live.versions.items() if f.dump(f.live(v.values)) == value and n != a.version]
    return Move(a.model, f"{f.name} {value}", a.version, max(holders, default=None))


def gate_run_ids(
    plan: Plan, live: LiveState, base_models: Mapping[str, DesiredModel], base_policy: ReviewPolicy
) -> frozenset[str]:
    """The training runs the gates need: the candidates' and the current holders'. Read them
    (reconciler.registry.reader's `runs`) into `LiveState.runs` before `evaluate_gates`."""
    ids = set()
    for move, _ in gated_moves(plan, live, base_models, base_policy):
        versions = live.models[move.model].versions
        for n in (move.candidate, move.current):
            run_id = versions[n].run_id if n is not None and n in versions else None
            if run_id:
                ids.add(run_id)
    return frozenset(ids)


def evaluate_gates(
    plan: Plan, live: LiveState, base_models: Mapping[str, DesiredModel], base_policy: ReviewPolicy
) -> tuple[GateResult, ...]:
    out = []
    for move, rules in gated_moves(plan, live, base_models, base_policy):
        live_model = live.models[move.model]
        for g in rules.protected.gates:
            out.append(judge(move, g, live_model, live.runs))
    return tuple(out)


def passed(results: tuple[GateResult, ...]) -> bool:
    return all(r.passed for r in results)


def judge(move: Move, g: Gate, live: LiveModel, runs: Mapping[str, Run]) -> GateResult:
    """One gate on one move (reconciler/proposal/evidence.py judges a promotion before it is proposed)."""
    candidate, problem = _metric(live, move.candidate, g.metric, runs)
    if problem:
        return GateResult(move, g, None, None, False, problem)
    assert candidate is not None
    if g.rule is GateRule.AT_LEAST:
        return GateResult(move, g, candidate, None, candidate >= g.value)
    if g.rule is GateRule.AT_MOST:
        return GateResult(move, g, candidate, None, candidate <= g.value)
    if move.current is None:
        return GateResult(move, g, candidate, None, True, NO_CURRENT)
    current, problem = _metric(live, move.current, g.metric, runs)
    if problem:
        return GateResult(move, g, candidate, None, False, f"cannot compare: {problem}")
    assert current is not None
    worse_by = candidate - current if g.lower_is_better else current - candidate
    ok = worse_by <= g.value or math.isclose(worse_by, g.value, rel_tol=REL_TOL)
    return GateResult(move, g, candidate, current, ok)


def _metric(live: LiveModel, number_: int, metric: str, runs: Mapping[str, Run]) -> tuple[float | None, str]:
    version = live.versions.get(number_)
    if version is None:
        return None, f"v{number_} is not in the registry"
    if not version.run_id:
        return None, f"v{number_} has no training run"
    run = runs.get(version.run_id)
    if run is None:
        return None, f"v{number_}'s training run {version.run_id} was not found"
    value = run.metrics.get(metric)
    if value is None:
        return None, f"v{number_}'s training run {version.run_id} has no metric {metric!r}"
    if math.isnan(value):
        return None, f"v{number_}'s metric {metric!r} is NaN"
    return value, ""
