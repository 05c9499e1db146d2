"""Train two small scikit-learn models, log them to MLflow tracking and register versions.

This is the training side of the workflow: training code creates model versions; the
reconciler never does. Datasets ship with scikit-learn (nothing is downloaded).

    python examples/train.py            # registers one new version of each example model

The registry is the one the reconciler uses: MLFLOW_TRACKING_URI, else ./mlflow.db.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import mlflow
import sklearn
from sklearn.datasets import load_diabetes, load_iris
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, f1_score, mean_absolute_error, r2_score
from sklearn.model_selection import train_test_split

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from reconciler.registry.target import resolve_target


@dataclass(frozen=True)
class Trained:
    model_name: str
    version: int
    run_id: str
    metrics: dict[str, float]


def train_iris(c: float = 1.0, model_name: str = "iris-classifier") -> Trained:
    x, y = load_iris(return_X_y=True, as_frame=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.3, random_state=42, stratify=y)
    model = LogisticRegression(C=c, max_iter=500).fit(x_train, y_train)
    predicted = model.predict(x_test)
    metrics = {"accuracy": accuracy_score(y_test, predicted), "f1_macro": f1_score(y_test, predicted, average="macro")}
    return _log(model_name, "iris", model, {"C": c, "max_iter": 500}, metrics, x_train.head(3))


def train_diabetes(alpha: float = 1.0, model_name: str = "diabetes-regressor") -> Trained:
    x, y = load_diabetes(return_X_y=True, as_frame=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.3, random_state=42)
    model = Ridge(alpha=alpha).fit(x_train, y_train)
    predicted = model.predict(x_test)
    metrics = {"r2": r2_score(y_test, predicted), "mae": mean_absolute_error(y_test, predicted)}
    return _log(model_name, "diabetes", model, {"alpha": alpha}, metrics, x_train.head(3))


def _log(model_name: str, dataset: str, model, params: dict, metrics: dict, example) -> Trained:
    mlflow.set_experiment(f"examples-{model_name}")
    with mlflow.start_run(run_name=f"{model_name}-train") as run:
        mlflow.log_params(params)
        mlflow.log_metrics(metrics)
        mlflow.set_tag("dataset", f"sklearn.datasets.load_{dataset}")
        # Pinned requirements: reproducible serving, and no slow requirement-inference subprocess.
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            input_example=example,
            registered_model_name=model_name,
            pip_requirements=[f"scikit-learn=={sklearn.__version__}", f"mlflow=={mlflow.__version__}"],
        )
    version = int(info.registered_model_version)
    return Trained(model_name, version, run.info.run_id, metrics)


def main() -> None:
    target = resolve_target()
    mlflow.set_tracking_uri(target.tracking_uri)
    mlflow.set_registry_uri(target.registry_uri)
    print(f"Tracking: {target.describe()}")
    for trained in (train_iris(c=0.02), train_iris(c=10.0), train_diabetes(alpha=0.5), train_diabetes(alpha=2.0)):
        shown = ", ".join(f"{k}={v:.3f}" for k, v in trained.metrics.items())
        print(f"registered {trained.model_name} v{trained.version} (run {trained.run_id[:8]}): {shown}")


if __name__ == "__main__":
    main()
