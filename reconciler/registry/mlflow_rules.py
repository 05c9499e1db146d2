"""MLflow's own validators, run on every value before the first write.

The JSON Schema (reconciler/fields/fragments.py) states the same rules so that `validate --offline`
and plans need no MLflow import; tests/unit/test_mlflow_rules.py checks it against these
functions. Apply calls the functions themselves as well, so that if the two ever disagree,
nothing is written rather than half a plan.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from reconciler.errors import DesiredStateError
from reconciler.fields.fragments import DB_VARCHAR
from reconciler.masking import clip
from reconciler.pointer import pointer
from reconciler.state import DesiredModel

Check = tuple[tuple[Any, ...], Callable[..., Any], tuple[Any, ...]]  # (where, validator, its arguments)


def _checks(m: DesiredModel) -> Iterator[Check]:
    from mlflow.utils import validation as v

    yield ("name",), v._validate_model_name, (m.name,)
    if m.values.get("description") is not None:
        yield ("description",), v._validate_length_limit, ("description", DB_VARCHAR, m.values["description"])
    for key, value in (m.values.get("tags") or {}).items():
        yield ("tags", key), v._validate_registered_model_tag, (key, value)
        yield ("tags", key), v._validate_length_limit, ("tag value", DB_VARCHAR, value)
    for alias in m.values.get("aliases") or {}:
        yield ("aliases", alias), v._validate_model_alias_name, (alias,)
        yield ("aliases", alias), v._validate_model_alias_name_reserved, (alias,)
    for number, version in m.versions.items():
        where = ("versions", str(number))
        for key, value in (version.values.get("tags") or {}).items():
            yield (*where, "tags", key), v._validate_model_version_tag, (key, value)
        if version.values.get("description") is not None:
            text = version.values["description"]
            yield (*where, "description"), v._validate_length_limit, ("description", DB_VARCHAR, text)


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
