"""A small registry of trained versions for propose/show tests: runs with params, metrics, tags,
a dataset input and an artifact, registered as versions (no model flavour: nothing to import)."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

IRIS_FILE = """\
# yaml-language-server: $schema=../schemas/model.schema.json
#
# Desired state of "iris". Comments, order and quoting must survive propose.
name: iris
owners: [ml-platform]
tags:
  team: 'vision'   # quoted on purpose

aliases:
  champion: 1      # production traffic
  challenger: 1

versions:
  1:
    stage: Production
    description: "baseline"

review:
  protected:
    gates:
      - {metric: accuracy, at_least: 0.9}
      - {metric: f1_macro, no_worse_than_current_by: 0.01}

propose:
  alias: challenger          # what training may ask for
  tags: [dataset, lineage.git_commit]
  description: true
"""
POLICY = """\
owners: [ml-platform]
protected:
  aliases: [champion]
  stages: [Production]
  approvals: 1
  from: [model-owners]
"""


def env(root: Path, **extra: str) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "RECONCILER_", "GITHUB_"))}
    e.update(MLFLOW_TRACKING_URI=f"sqlite:///{root / 'mlflow.db'}", XDG_CACHE_HOME=str(root / "cache"))
    e["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{e.get('PATH', '')}"
    e.update(extra)
    return e


def client(uri: str) -> Any:
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def train(
    c: Any,
    model: str,
    metrics: Mapping[str, float],
    params: Mapping[str, str] | None = None,
    tags: Mapping[str, str] | None = None,
    fail: bool = False,
) -> int:
    """One run (FINISHED, or FAILED) registered as a new version of `model`; its number."""
    import mlflow.data
    import pandas as pd

    exp = c.get_experiment_by_name("train") or None
    exp_id = exp.experiment_id if exp else c.create_experiment("train")
    run = c.create_run(exp_id, tags={"dataset": "iris-v1", **(tags or {})})
    rid = run.info.run_id
    for k, v in (params or {"C": "1.0"}).items():
        c.log_param(rid, k, v)
    for k, v in metrics.items():
        c.log_metric(rid, k, v)
    frame = pd.DataFrame({"x": [1.0, 2.0], "y": [0, 1]})
    ds = mlflow.data.from_pandas(frame, name="iris-train")
    c.log_inputs(rid, datasets=[mlflow.entities.DatasetInput(ds._to_mlflow_entity(), [])])
    c.set_terminated(rid, "FAILED" if fail else "FINISHED")
    try:
        c.get_registered_model(model)
    except Exception:
        c.create_registered_model(model)
    v = c.create_model_version(model, f"runs:/{rid}/model", run_id=rid)
    return int(v.version)


def seed(root: Path) -> Any:
    """models/iris.yaml + _policy.yaml, and iris v1 (the champion) in the registry."""
    (root / "models").mkdir(exist_ok=True)
    (root / "models" / "iris.yaml").write_text(IRIS_FILE)
    (root / "models" / "_policy.yaml").write_text(POLICY)
    c = client(f"sqlite:///{root / 'mlflow.db'}")
    train(c, "iris", {"accuracy": 0.93, "f1_macro": 0.92})
    c.transition_model_version_stage("iris", "1", "Production")
    c.set_registered_model_alias("iris", "champion", "1")
    c.set_registered_model_alias("iris", "challenger", "1")
    return c
