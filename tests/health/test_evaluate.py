"""The pure half of `reconciler health`: windows, sample-weighted values, unknown vs breach, the
replaced version's comparison, alert decisions (once per breach, resolved), Slack escaping, drift."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from reconciler.errors import ValidationErrors
from reconciler.files.desired import load_models
from reconciler.monitoring import alerts, drift
from reconciler.monitoring.evaluate import HOUR_MS, NO_REPLACED, Health, Monitored, ProductionRun, evaluate, weighted
from reconciler.monitoring.read import ALERT_FLAG, ALERT_STATE
from reconciler.monitoring.served import served_version
from reconciler.state import HealthRule, Monitoring, Threshold

ACC = Threshold("accuracy", HealthRule.AT_LEAST, 0.8)
LOSS = Threshold("loss", HealthRule.NO_WORSE_THAN_REPLACED_BY, 0.1, lower_is_better=True)
NOW = 100 * HOUR_MS


def _spec(**kw: object) -> Monitoring:
    return Monitoring(**{"alias": "champion", "thresholds": (ACC,), "window_hours": 3.0, "min_samples": 10, **kw})  # type: ignore[arg-type]


def _run(version: int, hour: float, samples: float = 10, **metrics: float) -> ProductionRun:
    return ProductionRun("m", version, int(hour * HOUR_MS), {"samples": samples, **metrics})


def test_the_time_window_weights_by_samples_and_ignores_older_runs() -> None:
    runs = {2: [_run(2, 96, 1000, accuracy=0.1), _run(2, 98, 10, accuracy=0.9), _run(2, 99, 30, accuracy=0.7)]}
    h = evaluate(Monitored("m", "models/m.yaml", _spec(), 2), runs, NOW)
    assert h.samples == 40 and h.results[0].value == pytest.approx((0.9 * 10 + 0.7 * 30) / 40)
    assert h.state is Health.BREACH and h.results[0].reason == "accuracy 0.75 is below 0.8"


def test_last_n_runs_window() -> None:
    runs = {2: [_run(2, h, accuracy=0.5 if h < 50 else 0.9) for h in range(40, 60)]}
    h = evaluate(Monitored("m", "f", _spec(window_hours=None, window_runs=5), 2), runs, NOW)
    assert h.state is Health.HEALTHY and h.samples == 50 and h.window == "last 5 runs"


@pytest.mark.parametrize(
    ("runs", "why"),
    [
        ({}, "0 samples in the last 3 h, fewer than min_samples 10: not judged"),
        ({2: [_run(2, 99, 5, accuracy=0.1)]}, "5 samples in the last 3 h, fewer than min_samples 10: not judged"),
        ({2: [_run(2, 99, 50, other=1.0)]}, "metric 'accuracy' was never logged in the window; log it or fix the name"),
    ],
)
def test_too_few_samples_or_a_metric_never_logged_is_unknown_not_healthy(runs: dict, why: str) -> None:
    h = evaluate(Monitored("m", "f", _spec(), 2), runs, NOW)
    assert h.state is Health.UNKNOWN and h.reason == why


def test_no_worse_than_the_replaced_version_over_its_own_last_window() -> None:
    spec = _spec(thresholds=(LOSS,))
    runs = {1: [_run(1, 50, loss=9.0), _run(1, 60, loss=1.0)], 2: [_run(2, 99, loss=1.05)]}
    assert evaluate(Monitored("m", "f", spec, 2, replaced=1), runs, NOW).state is Health.HEALTHY
    runs[2] = [_run(2, 99, loss=1.3)]
    h = evaluate(Monitored("m", "f", spec, 2, replaced=1), runs, NOW)
    assert h.state is Health.BREACH and h.results[0].replaced_value == 1.0
    assert h.results[0].rule() == "<= replaced + 0.1"
    h = evaluate(Monitored("m", "f", spec, 2), runs, NOW)  # the first holder: nothing to compare, as gates do
    assert h.state is Health.HEALTHY and h.results[0].reason == NO_REPLACED
    h = evaluate(Monitored("m", "f", spec, 2, replaced=7), runs, NOW)  # a replaced version without runs
    assert h.state is Health.UNKNOWN and h.reason == "v7 has no 'loss' in its production runs to compare"


def test_nan_values_are_skipped() -> None:
    assert weighted([_run(1, 1, accuracy=float("nan")), _run(1, 2, accuracy=0.5)], "accuracy") == 0.5


def _breach(version: int = 2) -> object:
    runs = {version: [_run(version, 99, accuracy=0.1)]}
    return evaluate(Monitored("m", "f", _spec(), version), runs, NOW)


def test_alerts_once_per_breach_then_resolved() -> None:
    breach = _breach()
    [first] = alerts.decide([breach], {})
    assert first.kind == "breach"
    sent = {("m", 2): {ALERT_FLAG: "1", ALERT_STATE: json.dumps({"key": first.key})}}
    assert alerts.decide([breach], sent) == []
    healthy = evaluate(Monitored("m", "f", _spec(), 2), {2: [_run(2, 99, accuracy=0.9)]}, NOW)
    assert [a.kind for a in alerts.decide([healthy], sent)] == ["resolved"]
    unknown = evaluate(Monitored("m", "f", _spec(), 2), {}, NOW)
    assert alerts.decide([unknown], sent) == []  # unknown clears nothing
    rolled_back = evaluate(Monitored("m", "f", _spec(), 1), {1: [_run(1, 99, accuracy=0.9)]}, NOW)
    [resolved] = alerts.decide([rolled_back], sent)
    assert (resolved.kind, resolved.version) == ("resolved", 2) and "no longer served" in resolved.payload["text"]


def test_hostile_names_cannot_mention_or_link_in_slack() -> None:
    h = evaluate(
        Monitored("<!channel> <http://x|y>", "f", _spec(), 2),
        {2: [ProductionRun("x", 2, NOW, {"samples": 10, "accuracy": 0.1})]},
        NOW,
    )
    text = alerts.payload(h, "breach")["text"]
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text and "<http" not in text


def test_psi_and_ks() -> None:
    rng = np.random.default_rng(0)
    ref = rng.normal(0, 1, 5000)
    assert drift.psi(ref, rng.normal(0, 1, 5000)) < 0.02
    assert drift.psi(ref, rng.normal(1.5, 1, 5000)) > 0.5
    stat, p = drift.ks(ref, rng.normal(1.5, 1, 500))
    assert stat > 0.4 and p < 1e-10
    assert drift.psi(np.ones(10), np.ones(10)) == pytest.approx(0.0, abs=1e-4)
    assert np.isnan(drift.psi(np.array([]), ref))


def test_a_monitoring_alias_the_file_does_not_set_is_one_line_naming_file_and_line(tmp_path: Path) -> None:
    """The resolver `serving:` uses (reconciler/files/pins.py) says it, for either section."""
    text = (
        "name: churn\naliases:\n  champion: 2\nmonitoring:\n  alias: gold\n  window: {hours: 6}\n"
        "  metrics:\n    - {metric: accuracy, at_least: 0.8}\n"
    )
    (tmp_path / "churn.yaml").write_text(text)
    with pytest.raises(ValidationErrors) as info:
        load_models(tmp_path)
    assert [str(e) for e in info.value.errors] == [
        f"{tmp_path / 'churn.yaml'}:5: monitoring.alias 'gold' is not set in this file's aliases (set: champion); "
        "add it under aliases or name one of those"
    ]
    (tmp_path / "churn.yaml").write_text(text.replace("alias: gold", "alias: champion"))
    (model,) = load_models(tmp_path)
    assert served_version(model) == 2
