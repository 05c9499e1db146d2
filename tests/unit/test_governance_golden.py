"""Golden cases for governance: base files + pull request files + registry + reviews -> the
requirements, the verdict, the gates and the Markdown posted on the pull request.

Each folder in tests/testdata/governance holds case.yaml (what the case shows, the base branch's
models/ and the pull request's, the registry in tests/support/livejson.py's form with runs, and the pull
request: author, head commit, fresh commits, team members, reviews) and the expected outputs. The
files go through the real loaders from a checkout on disk; the changed paths are the files that
differ between the two. After an intended change: UPDATE_GOLDEN=1, then review the diff.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from reconciler.governance.approvals import Review, State, Verdict, evaluate, teams_needed
from reconciler.governance.gates import GateResult, evaluate_gates, gate_run_ids
from reconciler.governance.report import approvals_markdown, gates_markdown, status
from reconciler.governance.repository import load_base, load_checked
from reconciler.governance.rules import Requirement, requirements
from reconciler.plan.builder import build_plan
from reconciler.plan.values import Plan
from tests.support.livejson import live_from_json

CASES = Path(__file__).resolve().parents[1] / "testdata" / "governance"


def write_tree(root: Path, files: dict[str, str]) -> None:
    root.mkdir(parents=True)
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")


def changed_paths(base: dict[str, str], head: dict[str, str]) -> list[str]:
    return sorted(f"models/{n}" for n in set(base) | set(head) if base.get(n) != head.get(n))


def reviews_of(raw: list[list[str]]) -> list[Review]:
    return [Review(user, State(state), commit, datetime.fromisoformat(at)) for user, state, commit, at in raw]


def requirement_json(r: Requirement) -> dict[str, Any]:
    return {
        "subject": r.subject,
        "kind": r.kind.value,
        "approvals": r.approvals,
        "groups": list(r.groups),
        "why": r.why,
        "changes": [str(c.address) for c in r.changes],
    }


def verdict_json(v: Verdict, gates: tuple[GateResult, ...]) -> dict[str, Any]:
    return {
        "ok": v.ok,
        "approvers": list(v.approvers),
        "status": list(status(v, gates)),
        "results": [
            {
                "subject": r.requirement.subject,
                "kind": r.requirement.kind.value,
                "ok": r.ok,
                "counted": list(r.counted),
                "not_counted": [[n.user, n.reason] for n in r.not_counted],
                "blocked_by": list(r.blocked_by),
                "message": r.message(),
            }
            for r in v.results
        ],
    }


def gate_json(g: GateResult) -> dict[str, Any]:
    m = g.move
    return {
        "move": f"{m.model} v{m.candidate} -> {m.target} (now {m.current})",
        "rule": f"{g.gate.metric} {g.rule()}",
        "candidate": g.candidate,
        "current": g.current,
        "passed": g.passed,
        "reason": g.reason,
    }


def run_case(case: Path, tmp_path: Path) -> tuple[dict[str, Any], str]:
    spec = YAML(typ="safe").load((case / "case.yaml").read_text(encoding="utf-8"))
    write_tree(tmp_path / "base" / "models", spec["base"])
    write_tree(tmp_path / "head" / "models", spec["head"])

    base = load_base(Path("base/models"))
    _, head_models = load_checked(Path("head/models"))
    live = live_from_json(spec["live"])
    plan: Plan = build_plan(head_models, live, "sqlite:///golden.db")
    changed = changed_paths(spec["base"], spec["head"])
    reqs = requirements(plan, base.models, base.policy, changed)
    pr = spec["pull_request"]
    needed = teams_needed(reqs)
    members = {t: m for t, m in pr.get("members", {}).items() if t.lower() in needed}
    verdict = evaluate(reqs, reviews_of(pr.get("reviews", [])), pr["author"], pr["head"], pr.get("fresh", []), members)
    gates = evaluate_gates(plan, live, base.models, base.policy)
    got = {
        "changed": changed,
        "skipped_base_files": list(base.skipped),
        "requirements": [requirement_json(r) for r in reqs],
        "teams_needed": sorted(needed),
        "gate_runs": sorted(gate_run_ids(plan, live, base.models, base.policy)),
        "gates": [gate_json(g) for g in gates],
        "verdict": verdict_json(verdict, gates),
    }
    markdown = approvals_markdown(verdict) + "\n" + gates_markdown(gates)
    return got, markdown


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir() if (p / "case.yaml").is_file()))
def test_golden(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    got, markdown = run_case(CASES / case, tmp_path)
    got_json = json.dumps(got, indent=2, ensure_ascii=False) + "\n"
    if os.environ.get("UPDATE_GOLDEN"):
        (CASES / case / "expected.json").write_text(got_json, encoding="utf-8")
        (CASES / case / "expected.md").write_text(markdown, encoding="utf-8")
    assert got_json == (CASES / case / "expected.json").read_text(encoding="utf-8")
    assert markdown == (CASES / case / "expected.md").read_text(encoding="utf-8")
    assert_inert(markdown)


def assert_inert(markdown: str) -> None:
    """Whatever the values, the Markdown has no comment, code span, mention or invisible character
    of theirs, and no value splits a table cell."""
    for bad in ("<!--", "`", "@", "\u202e", "\u2066"):
        assert bad not in markdown, bad
    pipes = None
    for line in markdown.splitlines():
        if line.startswith("|"):
            pipes = line.count("|") if pipes is None else pipes
            assert line.count("|") == pipes, line
        else:
            pipes = None
