"""`reconciler smoke` against a real mlflow server: a scikit-learn version passes; a pyfunc that
raises, one that answers two columns for a one-column signature and one that answers fewer rows fail;
a version without an input example is "not tested" with the fix; the registry is not written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.registry.target import Target, resolve_target
from reconciler.smoke import Outcome
from reconciler.smoke.run import Request, smoke
from tests.health import models
from tests.health.conftest import Registry
from tests.support.mlflow_uris import mlflow_at

pytestmark = pytest.mark.integration


def _cli(registry: Registry, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "reconciler", "smoke", *args], capture_output=True, text=True, timeout=300,
        env={**__import__("os").environ, "MLFLOW_TRACKING_URI": registry.uri},
    )  # fmt: skip


def _snapshot(name: str) -> list[tuple]:
    from mlflow import MlflowClient

    c = MlflowClient()
    m = c.get_registered_model(name)
    versions = c.search_model_versions(f"name='{name}'")
    rows = sorted((v.version, v.last_updated_timestamp, dict(v.tags), v.current_stage) for v in versions)
    return [(m.last_updated_timestamp, dict(m.tags), m.aliases), *rows]


def test_sklearn_version_passes_and_nothing_is_written(registry: Registry) -> None:
    version = models.register_sklearn("smoke-good")
    before = _snapshot("smoke-good")
    done = _cli(registry, "smoke-good", str(version), "--format", "json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["outcome"] == "passed" and result["rows"] == 5 and result["reasons"] == []
    assert result["input"] == "serving_input_example.json" and result["latency_ms"] > 0
    assert _snapshot("smoke-good") == before


def test_raising_pyfunc_fails(registry: Registry) -> None:
    version = models.register_pyfunc("smoke-raises", models.Raises())
    result = smoke(Request("smoke-raises", version), resolve_target())
    assert result.outcome is Outcome.FAILED
    assert "scoring raised" in result.reason() and "feature store unreachable" in result.reason()
    done = _cli(registry, "smoke-raises", str(version))
    assert done.returncode == 1 and "feature store unreachable" in done.stdout


def test_output_shape_other_than_signature_fails(registry: Registry) -> None:
    version = models.register_pyfunc("smoke-shape", models.TwoColumns())
    result = smoke(Request("smoke-shape", version), resolve_target())
    assert result.outcome is Outcome.FAILED
    assert result.reasons[0] == "row 0: 2 output columns, the signature says 1"


def test_fewer_rows_than_input_fails(registry: Registry) -> None:
    version = models.register_pyfunc("smoke-rows", models.FirstRowOnly())
    result = smoke(Request("smoke-rows", version), resolve_target())
    assert result.outcome is Outcome.FAILED and result.reasons == ("1 rows returned for 5 input rows",)


def test_latency_budget(registry: Registry) -> None:
    version = models.register_sklearn("smoke-budget")
    result = smoke(Request("smoke-budget", version, latency_budget_ms=1e-6), resolve_target())
    assert result.outcome is Outcome.FAILED and "over the 1e-06 ms budget" in result.reason()


def test_no_example_is_not_tested_unless_a_sample_is_declared(registry: Registry, tmp_path: Path) -> None:
    version = models.register_sklearn("smoke-bare", example=False)
    result = smoke(Request("smoke-bare", version), resolve_target())
    assert result.outcome is Outcome.NOT_TESTED and "input_example=" in result.reason()
    assert _cli(registry, "smoke-bare", str(version)).returncode == 0
    required = _cli(registry, "smoke-bare", str(version), "--require-example")
    assert required.returncode == 1 and "not tested" in required.stdout
    X, _ = models.training_data()
    sample = tmp_path / "sample.json"
    sample.write_text(json.dumps({"dataframe_split": json.loads(X.head(3).to_json(orient="split", index=False))}))
    result = smoke(Request("smoke-bare", version, sample=sample), resolve_target())
    assert result.outcome is Outcome.PASSED and result.rows == 3 and result.input == str(sample)


def test_unknown_version_is_a_one_line_error(registry: Registry) -> None:
    models.register_sklearn("smoke-unknown")
    done = _cli(registry, "smoke-unknown", "99")
    assert done.returncode == 1
    assert (
        done.stderr.strip()
        == "error: smoke-unknown v99: no such model version in the registry; check the name and number"
    )


def test_an_in_process_smoke_test_leaves_mlflows_uris_alone(registry: Registry) -> None:
    """`reconciler github check` smoke-tests inside its process: the registry is the target's, and
    MLflow's process-wide URIs (here another, unreachable registry) are what they were."""
    import mlflow

    version = models.register_sklearn("smoke-in-process")
    elsewhere = "http://127.0.0.1:9"
    with mlflow_at(elsewhere):
        result = smoke(Request("smoke-in-process", version), Target(registry.uri, registry.uri, embedded=False))
        assert (mlflow.get_tracking_uri(), mlflow.get_registry_uri()) == (elsewhere, elsewhere)
    assert result.outcome is Outcome.PASSED and result.rows == 5
