"""Point MLflow's in-process API at one registry for a block, and put back what was there before.

MLflow keeps the tracking and registry URIs in module globals (and mirrors them into the
environment), so a test that sets them leaks into every later test of its worker process; and
`mlflow.set_tracking_uri("")` does not unset it but means the `./mlruns` file store, which MLflow 3
refuses ("in maintenance mode"). Used by the fixtures that log models in-process.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

ENV = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")


@contextlib.contextmanager
def mlflow_at(uri: str) -> Iterator[None]:
    from mlflow.tracking._model_registry import utils as registry_utils
    from mlflow.tracking._tracking_service import utils as tracking_utils

    saved_env = {k: os.environ.get(k) for k in ENV}
    saved = tracking_utils._tracking_uri, registry_utils._registry_uri
    tracking_utils.set_tracking_uri(uri)
    registry_utils.set_registry_uri(uri)
    try:
        yield
    finally:
        tracking_utils.set_tracking_uri(saved[0])
        registry_utils.set_registry_uri(saved[1])
        for k, v in saved_env.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
