"""Models trained and registered by the tests: a scikit-learn regressor with an input example and a
signature, and broken pyfuncs (one raises, one answers in another shape than its signature)."""

from __future__ import annotations

from typing import Any

import mlflow
import mlflow.pyfunc
import numpy as np
import pandas as pd
from mlflow.models import infer_signature


class Raises(mlflow.pyfunc.PythonModel):
    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> Any:
        raise ValueError("feature store unreachable")


class TwoColumns(mlflow.pyfunc.PythonModel):
    """Its signature says one number per row; it answers two."""

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> Any:
        return pd.DataFrame({"a": np.zeros(len(model_input)), "b": np.ones(len(model_input))})


class FirstRowOnly(mlflow.pyfunc.PythonModel):
    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> Any:
        return np.zeros(1)


def pinned(*packages: str) -> list[str]:
    """The installed versions, as examples/train.py pins them: MLflow's requirement inference would
    load the model again in a subprocess (about 2.5 s of CPU per logged model)."""
    import importlib.metadata

    return [f"{p}=={importlib.metadata.version(p)}" for p in ("mlflow", *packages)]


def training_data() -> tuple[pd.DataFrame, np.ndarray]:
    from sklearn.datasets import load_diabetes

    data = load_diabetes(as_frame=True)
    return data.data, data.target.to_numpy()


def register_sklearn(name: str, example: bool = True) -> int:
    """Train a Ridge regressor and register it; returns the version number."""
    from sklearn.linear_model import Ridge

    X, y = training_data()
    model = Ridge(alpha=1.0).fit(X, y)
    signature = infer_signature(X, model.predict(X))
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(
            model, name="model", signature=signature, input_example=X.head(5) if example else None,
            registered_model_name=name, pip_requirements=pinned("scikit-learn"),
        )  # fmt: skip
    return int(info.registered_model_version)


def register_pyfunc(name: str, python_model: mlflow.pyfunc.PythonModel) -> int:
    """A pyfunc with the regressor's signature (one double per row) and an input example."""
    X, y = training_data()
    signature = infer_signature(X, y)
    with mlflow.start_run():
        info = mlflow.pyfunc.log_model(
            name="model", python_model=python_model, signature=signature, input_example=X.head(5),
            registered_model_name=name, pip_requirements=pinned("cloudpickle"),
        )  # fmt: skip
    return int(info.registered_model_version)
