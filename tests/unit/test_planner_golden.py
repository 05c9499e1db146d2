"""Golden cases: desired + live -> expected plan (JSON) and pull-request Markdown.

Each folder in tests/testdata/plans holds desired.yaml (a list of model documents), live.json,
and the expected outputs. After an intended change, regenerate with UPDATE_GOLDEN=1 and review
the diff like any other code change.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from rich.console import Console
from ruamel.yaml import YAML

from reconciler.files.convert import check_semantics, from_document
from reconciler.files.desired import check_document
from reconciler.plan import render
from reconciler.plan.builder import build_plan
from reconciler.state import Origin
from tests.support.livejson import live_from_json

CASES = Path(__file__).resolve().parents[1] / "testdata" / "plans"


def plan_for(case: Path):
    docs = YAML(typ="safe").load((case / "desired.yaml").read_text())
    desired = []
    for doc in docs:
        check_document(doc, f"{case.name}/desired.yaml")
        model = from_document(doc, Origin(f"models/{doc['name']}.yaml"))
        check_semantics(model)
        desired.append(model)
    return build_plan(desired, live_from_json(json.loads((case / "live.json").read_text())), "sqlite:///golden.db")


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir()))
def test_golden(case: str) -> None:
    plan = plan_for(CASES / case)
    got_json = (
        json.dumps(
            {"changes": [c.to_json() for c in plan.changes], "notes": [n.to_json() for n in plan.notes]}, indent=2
        )
        + "\n"
    )
    got_md = render.to_markdown(plan)
    console = Console(record=True, width=160, color_system=None, markup=False, highlight=False)
    render.to_text(plan, console, "sqlite:///golden.db")
    got_text = console.export_text()
    if os.environ.get("UPDATE_GOLDEN"):
        (CASES / case / "expected.json").write_text(got_json)
        (CASES / case / "expected.md").write_text(got_md)
        (CASES / case / "expected.txt").write_text(got_text)
    assert got_json == (CASES / case / "expected.json").read_text()
    assert got_md == (CASES / case / "expected.md").read_text()
    assert got_text == (CASES / case / "expected.txt").read_text()


def test_hostile_values_cannot_escape_their_cell():
    """Nothing from a file or the registry becomes markup in the PR comment or escapes on a terminal."""
    md = (CASES / "hostile-values" / "expected.md").read_text()
    for raw in ("<!--", "<script", "<img", "`rm", "](javascript", "@acme", "\u202e", "\x1b", "| @"):
        assert raw not in md, raw
    text = (CASES / "hostile-values" / "expected.txt").read_text()
    assert "\x1b" not in text and "\u202e" not in text and "\\u202e" in text
    assert "(from char 4,807 of 4,841)" in text  # the long description's change is shown, not cut off
