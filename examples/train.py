"""Train the example models, log them to MLflow tracking and register versions with lineage.

This is the training side: training code creates model versions; the reconciler never does.
Datasets ship with scikit-learn (nothing is downloaded).

    python examples/train.py                      # the demo: registers versions of both example models

The training pipeline (.github/workflows/train.yml) runs one step at a time:

    python examples/train.py validate iris-classifier         # the data against examples/data_checks.py
    python examples/train.py fit iris-classifier --param C=10 # train and log a run; prints run_id=...
    reconciler gates iris-classifier --run RUN_ID             # the model's gates, before registering
    python examples/train.py register iris-classifier RUN_ID  # a version with lineage tags; prints version=...
    reconciler propose iris-classifier VERSION --open-pr      # the promotion, as a pull request

The registry is the one the reconciler uses: MLFLOW_TRACKING_URI, else ./mlflow.db.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import sklearn
from sklearn.datasets import load_diabetes, load_iris
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, f1_score, mean_absolute_error, r2_score
from sklearn.model_selection import train_test_split

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from reconciler.proposal import lineage
from reconciler.registry.target import resolve_target

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Trained:
    model_name: str
    version: int
    run_id: str
    metrics: dict[str, float]


@dataclass(frozen=True)
class Kind:
    dataset: str
    load: Callable[..., Any]
    fit: Callable[[Any, Any, dict[str, float]], Any]
    score: Callable[[Any, Any], dict[str, float]]
    defaults: dict[str, float]
    stratify: bool


def _fit_iris(x: Any, y: Any, p: dict[str, float]) -> Any:
    return LogisticRegression(C=p["C"], max_iter=int(p["max_iter"])).fit(x, y)


def _fit_diabetes(x: Any, y: Any, p: dict[str, float]) -> Any:
    return Ridge(alpha=p["alpha"]).fit(x, y)


KINDS = {
    "iris": Kind(
        "iris",
        load_iris,
        _fit_iris,
        lambda y, p: {"accuracy": accuracy_score(y, p), "f1_macro": f1_score(y, p, average="macro")},
        {"C": 1.0, "max_iter": 500},
        True,
    ),
    "diabetes": Kind(
        "diabetes",
        load_diabetes,
        _fit_diabetes,
        lambda y, p: {"r2": r2_score(y, p), "mae": mean_absolute_error(y, p)},
        {"alpha": 1.0},
        False,
    ),
}


def kind_of(model_name: str) -> Kind:
    """iris-classifier -> iris, diabetes-regressor -> diabetes (and test copies such as gov-iris)."""
    for key, kind in KINDS.items():
        if key in model_name:
            return kind
    raise SystemExit(f"error: no training code for model {model_name!r}; known: models named *iris* or *diabetes*")


def frame(kind: Kind) -> Any:
    """The training data as one frame, features and `target`."""
    data = kind.load(as_frame=True)
    return data.frame


def validate(kind: Kind, df: Any) -> None:
    """The data against examples/data_checks.py; every failing rule reported, then the job stops."""
    import pandera.errors

    from examples import data_checks

    schema = data_checks.IRIS if kind.dataset == "iris" else data_checks.DIABETES
    try:
        schema.validate(df, lazy=True)
    except pandera.errors.SchemaErrors as e:
        cases = e.failure_cases
        shown = "; ".join(
            f"{row.column}: {row.check} (e.g. {row.failure_case!r})"
            for row in cases.drop_duplicates(["column", "check"]).itertuples()
        )
        raise SystemExit(
            f"error: the {kind.dataset} data breaks {len(cases)} rule(s) of examples/data_checks.py: {shown}"
        ) from None


def fingerprint(df: Any) -> str:
    """sha256 of the data as training read it: values, column names and order, row order."""
    import pandas as pd

    digest = hashlib.sha256(",".join(map(str, df.columns)).encode())
    digest.update(pd.util.hash_pandas_object(df, index=True).values.tobytes())
    return "sha256:" + digest.hexdigest()


def git_commit() -> str:
    """The commit of the training code: the checkout's HEAD, else GITHUB_SHA, else unknown."""
    try:
        done = subprocess.run(["git", "-C", str(HERE), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
    except OSError:
        done = None
    if done is not None and done.returncode == 0:
        return done.stdout.strip()
    return os.environ.get("GITHUB_SHA", "unknown")


def fit(model_name: str, params: Mapping[str, float] | None = None, df: Any = None) -> tuple[str, dict[str, float]]:
    """Train and log a run (parameters, metrics, the data as a dataset input, lineage tags, the model);
    nothing is registered. Returns the run id and the metrics."""
    kind = kind_of(model_name)
    df = frame(kind) if df is None else df
    p = {**kind.defaults, **(params or {})}
    x, y = df.drop(columns="target"), df["target"]
    split = train_test_split(x, y, test_size=0.3, random_state=42, stratify=y if kind.stratify else None)
    x_train, x_test, y_train, y_test = split
    model = kind.fit(x_train, y_train, p)
    metrics = kind.score(y_test, model.predict(x_test))
    mlflow.set_experiment(f"examples-{model_name}")
    with mlflow.start_run(run_name=f"{model_name}-train") as run:
        mlflow.log_params(p)
        mlflow.log_metrics(metrics)
        mlflow.set_tag("dataset", f"sklearn.datasets.load_{kind.dataset}")
        mlflow.set_tags(lineage_tags(df))
        mlflow.log_input(mlflow.data.from_pandas(df, name=f"{kind.dataset}-train"), context="training")
        # Pinned requirements: reproducible serving, and no slow requirement-inference subprocess.
        mlflow.sklearn.log_model(
            model,
            name="model",
            input_example=x_train.head(3),
            pip_requirements=[f"scikit-learn=={sklearn.__version__}", f"mlflow=={mlflow.__version__}"],
        )
    return run.info.run_id, metrics


def lineage_tags(df: Any) -> dict[str, str]:
    return {
        lineage.GIT_COMMIT: git_commit(),
        lineage.DATA_FINGERPRINT: fingerprint(df),
        lineage.WORKFLOW_RUN: lineage.workflow_run(os.environ),
    }


def register(model_name: str, run_id: str) -> int:
    """A new version from the run's logged model, carrying the run's lineage tags. A run trained for
    another model (another experiment) is refused; a run already registered as a version of this
    model gives that version, so re-running the step converges."""
    client = mlflow.MlflowClient()
    run = client.get_run(run_id)
    if run.info.status != "FINISHED" or run.info.lifecycle_stage == "deleted":
        state = "deleted" if run.info.lifecycle_stage == "deleted" else run.info.status
        raise SystemExit(f"error: run {run_id} is {state}, not FINISHED; it is not registered")
    experiment = client.get_experiment(run.info.experiment_id).name
    if experiment != f"examples-{model_name}":
        raise SystemExit(
            f"error: run {run_id} was trained in experiment {experiment!r}, not 'examples-{model_name}'; it is not "
            f"registered as {model_name!r}: register a run of `train.py fit {model_name}`"
        )
    quote = "'" if "'" not in model_name else '"'
    existing = client.search_model_versions(f"name = {quote}{model_name}{quote} and run_id = '{run_id}'")
    if existing:
        return min(int(v.version) for v in existing)
    logged = client.search_logged_models(
        experiment_ids=[run.info.experiment_id], filter_string=f"source_run_id = '{run_id}'"
    )
    uri = f"models:/{logged[0].model_id}" if logged else f"runs:/{run_id}/model"
    tags = lineage.lineage_tags(run.data.tags)
    version = mlflow.register_model(uri, model_name, tags=tags)
    return int(version.version)


def train_iris(c: float = 1.0, model_name: str = "iris-classifier") -> Trained:
    return _train(model_name, {"C": c})


def train_diabetes(alpha: float = 1.0, model_name: str = "diabetes-regressor") -> Trained:
    return _train(model_name, {"alpha": alpha})


def _train(model_name: str, params: dict[str, float]) -> Trained:
    run_id, metrics = fit(model_name, params)
    return Trained(model_name, register(model_name, run_id), run_id, metrics)


def _connect() -> None:
    # MLflow prints "View run … at: <tracking URI>" when a run ends, the URI with its password if it has one.
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    target = resolve_target()
    mlflow.set_tracking_uri(target.tracking_uri)
    mlflow.set_registry_uri(target.registry_uri)
    print(f"Tracking: {target.describe()}")


def _output(**values: object) -> None:
    """key=value on stdout, and to GITHUB_OUTPUT in a workflow step."""
    lines = "".join(f"{k}={v}\n" for k, v in values.items())
    sys.stdout.write(lines)
    if os.environ.get("GITHUB_OUTPUT"):
        with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as f:
            f.write(lines)


def _params(pairs: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        try:
            number = float(value)
        except ValueError:
            sep = ""
        if not sep or not key:
            raise SystemExit(f"error: --param {pair!r}: give NAME=NUMBER (e.g. C=10)")
        if not math.isfinite(number) or number <= 0:
            raise SystemExit(f"error: --param {pair!r}: give a finite number above 0 (C and alpha are strengths)")
        if key in out:
            raise SystemExit(f"error: --param {key} is given twice ({out[key]:g} and {number:g}); give it once")
        out[key] = number
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="step")
    v = sub.add_parser("validate", help="check the training data's rules")
    v.add_argument("model")
    f = sub.add_parser("fit", help="train and log a run (no registration)")
    f.add_argument("model")
    f.add_argument("--param", action="append", default=[], metavar="NAME=NUMBER")
    r = sub.add_parser("register", help="register a run's model as a new version, with lineage tags")
    r.add_argument("model")
    r.add_argument("run_id")
    args = parser.parse_args(argv)
    if args.step == "validate":
        kind = kind_of(args.model)
        validate(kind, frame(kind))
        print(f"the {kind.dataset} data passes examples/data_checks.py")
        return
    _connect()
    if args.step == "fit":
        run_id, metrics = fit(args.model, _params(args.param))
        _output(run_id=run_id, **{k: f"{val:.4f}" for k, val in metrics.items()})
    elif args.step == "register":
        _output(version=register(args.model, args.run_id))
    else:
        for t in (train_iris(c=0.02), train_iris(c=10.0), train_diabetes(alpha=0.5), train_diabetes(alpha=2.0)):
            shown = ", ".join(f"{k}={val:.3f}" for k, val in t.metrics.items())
            print(f"registered {t.model_name} v{t.version} (run {t.run_id[:8]}): {shown}")


if __name__ == "__main__":
    main()
