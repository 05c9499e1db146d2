"""The alert bookkeeping when the registry refuses the write: the breach alert is sent, the refusal
is reported on it (exit 1, not lost silently), and a later run that may write sends it once more
and remembers it; after that nothing is sent. A real SQLite registry, opened read-only for the
refusing run (SQLite's own read-only mode: the write fails inside MLflow's store, as a missing
permission does on a server)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from reconciler.commands.health import EXIT_BREACH, _code
from reconciler.files.desired import load_models
from reconciler.monitoring import alerts
from reconciler.monitoring.check import run
from reconciler.monitoring.log import log_window
from tests.health.receiver import receiver

pytestmark = pytest.mark.slow

NOW = datetime(2026, 11, 2, tzinfo=timezone.utc)
FILE = """\
name: m
owners: [olivia]
aliases: {champion: 1}
monitoring:
  alias: champion
  window: {hours: 6}
  min_samples: 100
  metrics:
    - {metric: prediction_mean, at_most: 10}
"""


def test_a_refused_tag_write_is_reported_and_the_next_run_converges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflow import MlflowClient

    db = tmp_path / "mlflow.db"
    writable = MlflowClient(tracking_uri=f"sqlite:///{db}", registry_uri=f"sqlite:///{db}")
    writable.create_registered_model("m")
    writable.create_model_version("m", str(tmp_path / "model"))
    for h in range(6):  # predictions around 100: prediction_mean breaches at_most 10
        end = NOW - timedelta(hours=h)
        log_window("m", 1, np.full(100, 100.0), start=end - timedelta(hours=1), end=end, client=writable)
    ro = f"sqlite:///file:{db}?mode=ro&uri=true"
    read_only = MlflowClient(tracking_uri=ro, registry_uri=ro)
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "m.yaml").write_text(FILE)
    models = load_models(tmp_path / "models")

    with receiver() as hook:
        monkeypatch.setenv(alerts.WEBHOOK_ENV, hook.url)
        report = run(models, read_only, NOW)
        [sent] = report.deliveries
        assert sent.ok and not sent.remembered and len(hook.bodies) == 1
        assert sent.error.startswith("sent, but not remembered on the version (")
        assert "it is sent again next run" in sent.error and _code(report) == EXIT_BREACH
        assert writable.get_model_version("m", "1").tags == {}

        again = run(models, writable, NOW)
        assert [(d.alert.kind, d.ok, d.remembered) for d in again.deliveries] == [("breach", True, True)]
        assert len(hook.bodies) == 2
        assert run(models, writable, NOW).deliveries == () and len(hook.bodies) == 2
