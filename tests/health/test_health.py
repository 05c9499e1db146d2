"""`reconciler health` against a real mlflow server: production runs logged through
reconciler.monitoring.log, the previous champion known from the audit journal of real applies, a
simulated drop that breaches, one alert per breach (to a local receiver that answers 500 then 200),
"resolved" when it clears, too few samples unknown, and registry calls that do not grow with models."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from reconciler.monitoring.log import log_window
from tests.health import models
from tests.health.conftest import Registry
from tests.health.receiver import receiver

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)
FILE = """\
name: {name}
owners: [olivia]
aliases:
  champion: {v}   # what serves
monitoring:
  alias: champion
  window: {{hours: 6}}
  min_samples: 200
  rollback: true
  metrics:
    - {{metric: r2, at_least: 0.3}}
    - {{metric: mae, no_worse_than_replaced_by: 5, lower_is_better: true}}
    - {{metric: psi_max, at_most: 0.25}}
"""


def _cli(registry: Registry, root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "RECONCILER_"))}
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args], cwd=root, capture_output=True, text=True, timeout=300,
        env={**base, "MLFLOW_TRACKING_URI": registry.uri, "RECONCILER_ACTOR": "ci", **(env or {})},
    )  # fmt: skip


def _apply(registry: Registry, root: Path, name: str, champion: int) -> None:
    (root / "models").mkdir(exist_ok=True)
    (root / "models" / f"{name}.yaml").write_text(FILE.format(name=name, v=champion))
    done = _cli(registry, root, "apply", "--yes", "--pull-request", "#7", "--commit", "a" * 40)
    assert done.returncode == 0, done.stderr


def _log(name: str, version: int, hours: range, degrade: float = 0.0, samples: int = 100, base: datetime = T0) -> None:
    """Production windows of an hour each: predictions of the version's model on the diabetes data,
    `degrade` shifting both the inputs (drift) and the errors."""
    X, y = models.training_data()
    rng = np.random.default_rng(version)
    for h in hours:
        idx = rng.choice(len(X), samples, replace=False)
        batch = X.iloc[idx] + degrade * X.std()
        truth = y[idx]
        predictions = truth + rng.normal(0, 40 + 200 * degrade, samples)
        log_window(
            name, version, predictions, features=batch, reference=X, ground_truth=truth,
            start=base + timedelta(hours=h - 1), end=base + timedelta(hours=h),
        )  # fmt: skip


def _health(registry: Registry, root: Path, at_hour: int, env: dict[str, str] | None = None) -> tuple[int, dict]:
    when = (T0 + timedelta(hours=at_hour)).strftime("%Y-%m-%dT%H:%M:%S")
    done = _cli(registry, root, "health", "--format", "json", "--now", when, env=env)
    assert done.returncode in (0, 1, 2), done.stderr
    return done.returncode, json.loads(done.stdout)


@pytest.fixture(scope="module")
def promoted(registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """health-m: v1 champion, then v2 promoted by a real apply (the journal records 1 -> 2)."""
    name = "health-m"
    root = tmp_path_factory.mktemp("health-repo")
    models.register_sklearn(name)
    models.register_sklearn(name)
    _apply(registry, root, name, 1)
    _log(name, 1, range(1, 7))  # v1 served hours 1-6
    _apply(registry, root, name, 2)
    return root, name


def test_healthy_then_a_drop_breaches_once_alerts_once_then_resolves(
    registry: Registry, promoted: tuple[Path, str]
) -> None:
    root, name = promoted
    _log(name, 2, range(7, 13))
    code, report = _health(registry, root, 12)
    assert code == 0, report
    model = report["models"][0]
    assert (model["model"], model["version"], model["replaced"], model["state"]) == (name, 2, 1, "healthy")
    assert model["samples"] == 600 and all(t["passed"] for t in model["thresholds"])
    assert report["alerts"] == []  # no webhook configured: nothing sent, nothing written

    _log(name, 2, range(13, 19), degrade=1.0)  # the simulated drop: drifted inputs, larger errors
    with receiver() as hook:
        hook.answers = [500]
        env = {"RECONCILER_ALERT_WEBHOOK": hook.url}
        code, report = _health(registry, root, 18, env)
        assert code == 1
        model = report["models"][0]
        assert model["state"] == "breach"
        failed = {t["metric"] for t in model["thresholds"] if t["passed"] is False}
        assert failed == {"r2", "mae", "psi_max"}, model
        assert report["alerts"] == [
            {
                "kind": "breach",
                "model": name,
                "version": 2,
                "delivered": True,
                "remembered": True,
                "attempts": 2,
                "error": "",
            }
        ]
        assert len(hook.bodies) == 2 and hook.bodies[0] == hook.bodies[1]  # the 500, then the retry
        text = hook.bodies[1]["text"]
        assert text.startswith(f":rotating_light: Breach: {name} v2 (last 6 h, 600 samples)")
        assert "`psi_max`" in text and "mae" in text and hook.bodies[1]["blocks"][0]["type"] == "section"

        code, report = _health(registry, root, 18, env)  # the same breach: no second alert
        assert code == 1 and report["alerts"] == [] and len(hook.bodies) == 2

        before = (root / "models" / f"{name}.yaml").read_text()
        when = (T0 + timedelta(hours=18)).strftime("%Y-%m-%dT%H:%M:%S")
        shown = _cli(registry, root, "health", "--now", when, "--rollback-diff")  # the change, shown, not made
        assert shown.returncode == 1, shown.stderr
        assert f"Roll back {name} champion: v2 -> v1: the change" in shown.stdout
        assert f"--- a/models/{name}.yaml\n+++ b/models/{name}.yaml\n" in shown.stdout
        assert "\n-  champion: 2   # what serves\n+  champion: 1   # what serves\n" in shown.stdout
        assert (root / "models" / f"{name}.yaml").read_text() == before

        _log(name, 2, range(19, 25))  # recovered
        code, report = _health(registry, root, 24, env)
        assert code == 0 and report["models"][0]["state"] == "healthy"
        assert [a["kind"] for a in report["alerts"]] == ["resolved"]
        assert hook.bodies[-1]["text"].startswith(f":white_check_mark: Resolved: {name} v2 is healthy again")
        code, report = _health(registry, root, 24, env)
        assert report["alerts"] == [] and len(hook.bodies) == 3


def test_too_few_samples_is_unknown_and_exits_2(registry: Registry, promoted: tuple[Path, str]) -> None:
    root, _ = promoted
    code, report = _health(registry, root, 200)  # long after the last run: nothing in the window
    assert code == 2
    model = report["models"][0]
    assert model["state"] == "unknown" and "fewer than min_samples 200" in model["reason"]


def test_an_unreachable_webhook_is_reported_and_retried_next_run(registry: Registry, tmp_path: Path) -> None:
    name = "health-down"
    models.register_sklearn(name)
    _apply(registry, tmp_path, name, 1)
    _log(name, 1, range(1, 7), degrade=1.0)
    env = {"RECONCILER_ALERT_WEBHOOK": "http://127.0.0.1:9/nothing-listens"}
    when = (T0 + timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M:%S")
    done = _cli(registry, tmp_path, "health", "--now", when, env=env)
    assert done.returncode == 1
    assert f"error: could not deliver the breach alert for {name} v1 after 4 attempt(s): ConnectionError" in done.stderr
    with receiver() as hook:
        code, report = _health(registry, tmp_path, 6, {"RECONCILER_ALERT_WEBHOOK": hook.url})
        assert code == 1 and [a["delivered"] for a in report["alerts"]] == [True] and len(hook.bodies) == 1


def test_the_serving_side_example_logs_windows_health_judges(registry: Registry, tmp_path: Path) -> None:
    name = "health-example"
    models.register_sklearn(name)
    _apply(registry, tmp_path, name, 1)
    script = Path(__file__).resolve().parents[2] / "examples" / "production_monitoring.py"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    args = [
        sys.executable,
        str(script),
        name,
        "1",
        "--windows",
        "6",
        "--samples",
        "200",
        "--end",
        "2026-11-01T06:00:00",
    ]
    done = subprocess.run(
        args, env={**env, "MLFLOW_TRACKING_URI": registry.uri}, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("logged health-example v1 window ending") == 6
    code, report = _health(registry, tmp_path, 6)
    assert code == 0, report
    assert report["models"][0]["samples"] == 1200 and report["models"][0]["state"] == "healthy"
    degraded = [*args[:-1], "2026-11-01T12:00:00", "--degrade", "1.5"]
    done = subprocess.run(degraded, env={**env, "MLFLOW_TRACKING_URI": registry.uri}, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    code, report = _health(registry, tmp_path, 12)
    assert code == 1 and {t["metric"] for t in report["models"][0]["thresholds"] if t["passed"] is False} >= {"psi_max"}
