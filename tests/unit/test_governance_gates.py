"""Metric gates at their edges, and the gates table with hostile names built directly (the schemas
refuse such metric names in files; the Markdown must be safe anyway)."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest

from reconciler.governance.gates import GateResult, Move, evaluate_gates, gate_run_ids
from reconciler.governance.policy import ReviewPolicy, Tier
from reconciler.governance.report import gates_markdown
from reconciler.plan.values import Action, Address, Change, Plan
from reconciler.state import Gate, GateRule, LiveModel, LiveState, LiveVersion, Run, Stage, frozen_map

GOLDEN = Path(__file__).resolve().parents[1] / "testdata" / "governance" / "report-hostile.md"


def policy(*gates: Gate, aliases=("champion",), stages=(Stage.PRODUCTION,)) -> ReviewPolicy:
    return ReviewPolicy(
        owners=("ops",),
        protected=Tier(1, ("model-owners",), gates),
        aliases=frozenset(aliases),
        stages=frozenset(stages),
    )


def live(stages: dict[int, Stage], metrics: dict[int, dict[str, float]], aliases=None) -> LiveState:
    versions = {n: LiveVersion(n, {"stage": s}, run_id=f"r{n}" if n in metrics else None) for n, s in stages.items()}
    model = LiveModel("m", {"aliases": frozen_map(aliases or {})}, frozen_map(versions))
    runs = {f"r{n}": Run("FINISHED", frozen_map(m)) for n, m in metrics.items()}
    return LiveState(frozen_map({"m": model}), frozen_map(runs))


def stage_change(version: int, before: str, after: str) -> Change:
    return Change(Address("m", version, "stage"), Action.UPDATE, before, after)


def alias_change(action: Action, before, after) -> Change:
    return Change(Address("m", None, "alias", "champion"), action, before, after)


def judge(changes, state, *gates: Gate) -> tuple[GateResult, ...]:
    return evaluate_gates(Plan(changes=tuple(changes)), state, {}, policy(*gates))


def test_the_current_stage_holder_is_the_newest_version_in_it():
    state = live(
        {1: Stage.PRODUCTION, 2: Stage.PRODUCTION, 3: Stage.STAGING, 4: Stage.NONE},
        {1: {"acc": 0.99}, 2: {"acc": 0.9}, 3: {"acc": 0.905}},
    )
    plan_changes = [stage_change(3, "Staging", "Production")]
    (r,) = judge(plan_changes, state, Gate("acc", GateRule.NO_WORSE_THAN_CURRENT_BY, 0.0))
    assert r.move == Move("m", "stage Production", 3, 2) and r.passed
    assert gate_run_ids(Plan(changes=tuple(plan_changes)), state, {}, policy(Gate("acc", GateRule.AT_LEAST, 0))) == {
        "r2",
        "r3",
    }


def test_moves_that_give_nothing_have_no_gates():
    state = live({1: Stage.PRODUCTION, 2: Stage.NONE}, {1: {"acc": 0.1}, 2: {"acc": 0.1}}, {"champion": 1})
    changes = [stage_change(1, "Production", "Archived"), alias_change(Action.DELETE, 1, None)]
    changes.append(stage_change(2, "None", "Staging"))  # Staging is not protected here
    assert judge(changes, state, Gate("acc", GateRule.AT_LEAST, 0.9)) == ()


def test_no_gates_means_no_runs_to_read():
    state = live({1: Stage.NONE}, {1: {}})
    plan = Plan(changes=(alias_change(Action.CREATE, None, 1),))
    assert gate_run_ids(plan, state, {}, policy()) == frozenset() and evaluate_gates(plan, state, {}, policy()) == ()


@pytest.mark.parametrize(
    ("candidate", "current", "gate", "passed"),
    [
        (0.9, None, Gate("acc", GateRule.AT_LEAST, 0.9), True),
        (0.8999999, None, Gate("acc", GateRule.AT_LEAST, 0.9), False),
        (12.5, None, Gate("rmse", GateRule.AT_MOST, 12.5), True),
        (0.89, 0.9, Gate("acc", GateRule.NO_WORSE_THAN_CURRENT_BY, 0.01), True),  # 0.9 - 0.89 = 0.010000000000000009
        (0.8899, 0.9, Gate("acc", GateRule.NO_WORSE_THAN_CURRENT_BY, 0.01), False),
        (1.1, 1.0, Gate("loss", GateRule.NO_WORSE_THAN_CURRENT_BY, 0.1, lower_is_better=True), True),
        (1.2, 1.0, Gate("loss", GateRule.NO_WORSE_THAN_CURRENT_BY, 0.1, lower_is_better=True), False),
        (0.5, 1.0, Gate("loss", GateRule.NO_WORSE_THAN_CURRENT_BY, 0.0, lower_is_better=True), True),
        (math.inf, None, Gate("acc", GateRule.AT_LEAST, 0.9), True),
    ],
)
def test_rules(candidate, current, gate, passed):
    metrics = {2: {gate.metric: candidate}}
    if current is not None:
        metrics[1] = {gate.metric: current}
    state = live({1: Stage.NONE, 2: Stage.NONE}, metrics, {"champion": 1})
    (r,) = judge([alias_change(Action.UPDATE, 1, 2)], state, gate)
    assert r.passed is passed and r.reason == ""


def test_a_nan_metric_fails_with_its_reason():
    state = live({1: Stage.NONE, 2: Stage.NONE}, {1: {"acc": 0.9}, 2: {"acc": math.nan}}, {"champion": 1})
    (r,) = judge([alias_change(Action.UPDATE, 1, 2)], state, Gate("acc", GateRule.AT_MOST, 1.0))
    assert not r.passed and r.reason == "v2's metric 'acc' is NaN"


def test_a_candidate_the_registry_does_not_have_fails():
    state = live({1: Stage.NONE}, {1: {"acc": 0.9}}, {"champion": 1})
    (r,) = judge([alias_change(Action.UPDATE, 1, 7)], state, Gate("acc", GateRule.AT_LEAST, 0.0))
    assert not r.passed and r.reason == "v7 is not in the registry"


HOSTILE = "<!-- x --> | `y` @acme/admins \u202eevil\nline"


def test_the_gates_table_shows_hostile_names_as_inert_text():
    rows = (
        GateResult(Move(HOSTILE, f"alias {HOSTILE}", 3, 2), Gate(HOSTILE, GateRule.AT_LEAST, 0.9), 0.5, None, False),
        GateResult(
            Move(HOSTILE, "stage Production", 3, None),
            Gate(HOSTILE, GateRule.NO_WORSE_THAN_CURRENT_BY, 0.1),
            None,
            None,
            False,
            f"v3's training run {HOSTILE} has no metric {HOSTILE!r}",
        ),
    )
    got = gates_markdown(rows)
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(got, encoding="utf-8")
    assert got == GOLDEN.read_text(encoding="utf-8")
    body = got.split("|---|---|---|---|---|---|---|---|\n")[1]
    for row in body.splitlines():
        assert row.count("|") == 9  # no value split a cell
    for bad in ("<!--", "`", "@acme", "\u202e", "\nline"):
        assert bad not in body
