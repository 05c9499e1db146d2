"""MLflow's own validators, run on every value before the first write; which validator checks which
value is the field's declaration (`Field.mlflow_checks`).

The JSON Schema (reconciler/fields/fragments.py) states the same rules so that `validate --offline`
and plans need no MLflow import; tests/unit/test_mlflow_rules.py checks it against these
functions. Apply calls the functions themselves as well, so that if the two ever disagree,
nothing is written rather than half a plan.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from reconciler.errors import DesiredStateError
from reconciler.fields import Level, at
from reconciler.masking import clip
from reconciler.pointer import pointer
from reconciler.state import DesiredModel

Check = tuple[tuple[Any, ...], Callable[..., Any], tuple[Any, ...]]  # (where, validator, its arguments)


def _checks(m: DesiredModel) -> Iterator[Check]:
    """The model name's check, then each field's (`Field.mlflow_checks`), model fields before versions."""
    from mlflow.utils import validation

    yield ("name",), validation._validate_model_name, (m.name,)
    entities: list[tuple[tuple[str, ...], Level, Mapping[str, Any]]] = [((), Level.MODEL, m.values)]
    entities += [(("versions", str(n)), Level.VERSION, v.values) for n, v in m.versions.items()]
    for where, level, values in entities:
        for f in at(level):
            if values.get(f.file_key) is not None:
                for path, name, args in f.mlflow_checks(values[f.file_key]):
                    yield (*where, f.file_key, *path), getattr(validation, name), args


def check(desired: Sequence[DesiredModel]) -> list[DesiredStateError]:
    from mlflow.exceptions import MlflowException

    errors = []
    for m in desired:
        for path, validator, args in _checks(m):
            try:
                validator(*args)
            except MlflowException as e:
                message = clip(e.message.splitlines()[0], 200) if e.message else "invalid"
                errors.append(DesiredStateError(f"{m.origin.at(*path)}: {pointer(path)}: MLflow refuses it: {message}"))
    return errors
