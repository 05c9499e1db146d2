"""The proposal body, golden: run, comparison (best marked), gates as the policy will apply them,
hostile values escaped; and the marker that tells a hand-edited body. Pure: no MLflow, no GitHub.
Regenerate with UPDATE_GOLDEN=1 and read the diff."""

from __future__ import annotations

import os
from pathlib import Path

from reconciler.governance.policy import ModelRules, Tier
from reconciler.proposal.body import Marker, read_marker, render, with_marker
from reconciler.proposal.evidence import ModelView, RunInfo, VersionInfo, gather
from reconciler.reviewblock import Gate, GateRule
from reconciler.stage import Stage

GOLDEN = Path(__file__).parent / "testdata" / "body.md"
RULES = ModelRules(
    model="iris",
    owners=("ml-platform",),
    changes=Tier(1, ("model-owners",)),
    protected=Tier(
        2,
        ("model-owners",),
        (
            Gate("accuracy", GateRule.AT_LEAST, 0.9),
            Gate("f1_macro", GateRule.NO_WORSE_THAN_CURRENT_BY, 0.01),
            Gate("log_loss", GateRule.AT_MOST, 0.5),
        ),
    ),
    aliases=frozenset({"champion"}),
    stages=frozenset({Stage.PRODUCTION}),
)


def _run(n: int, metrics: dict[str, float], **params: str) -> RunInfo:
    tags = {"lineage.git_commit": "0123abc", "lineage.data_fingerprint": "sha256:feed"} if n == 4 else {}
    return RunInfo(
        f"run{n}",
        "FINISHED",
        "7",
        params,
        metrics,
        tags,
        ("iris-train (digest 1a2b, source code)",) if n == 4 else (),
        link=f"http://mlflow.example/#/experiments/7/runs/run{n}",
    )


def view() -> ModelView:
    versions = {
        1: VersionInfo(1, "READY", Stage.PRODUCTION, _run(1, {"accuracy": 0.93, "f1_macro": 0.92, "log_loss": 0.3})),
        3: VersionInfo(3, "READY", Stage.NONE, _run(3, {"accuracy": 0.91, "f1_macro": 0.95, "log_loss": 0.2})),
        4: VersionInfo(
            4,
            "READY",
            Stage.NONE,
            _run(4, {"accuracy": 0.96, "f1_macro": 0.90, "log_loss": 0.25}, C="10", note="<b>@all</b> | x"),
        ),
    }
    return ModelView("iris", {"champion": 1, "challenger": 3}, versions)


def test_body_matches_golden():
    text = render(gather(view(), 4, "alias challenger", RULES), "models/iris.yaml")
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()
    assert "<b>" not in text and "@all" not in text


def test_the_marker_tells_a_hand_edited_body():
    body = with_marker("evidence\n", Marker("iris", 4, "h" * 40, "b" * 40, ""))
    marker, intact = read_marker(body) or (None, False)
    assert marker is not None and intact and (marker.version, marker.head) == (4, "h" * 40)
    assert read_marker(body.replace("evidence", "evidence, seen by bob")) == (marker, False)
    assert read_marker("no marker here") is None
    assert read_marker(body.replace('"version": 4', '"version": "x"')) is None


def test_a_nan_metric_loses_the_bold_mark_it_does_not_take_it_from_the_column():
    """hostile6 #8: a candidate logging NaN for log_loss left the holder's 0.3 unmarked."""
    nan = float("nan")
    versions = {
        1: VersionInfo(1, "READY", Stage.PRODUCTION, _run(1, {"accuracy": 0.93, "log_loss": 0.3})),
        4: VersionInfo(4, "READY", Stage.NONE, _run(4, {"accuracy": 0.96, "log_loss": nan})),
    }
    e = gather(ModelView("iris", {"champion": 1}, versions), 4, "alias challenger", RULES)
    assert e.best("log_loss") == 1 and e.best("accuracy") == 4
    row = next(line for line in render(e, "models/iris.yaml").splitlines() if line.startswith("| v1 "))
    assert "**0.3**" in row, row
