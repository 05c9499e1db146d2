"""The schema's name and length rules against MLflow's own validators.

Offline validation and plans use the JSON Schema (no MLflow import); apply also calls MLflow's
validators (reconciler/registry/mlflow_rules.py). Here, for generated strings, whatever the schema accepts
MLflow must accept: otherwise a file would validate and an apply would stop half-way.
"""

from __future__ import annotations

import jsonschema
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from mlflow.exceptions import MlflowException
from mlflow.utils import validation as v

from reconciler.fields.fragments import ALIAS_NAME, DB_VARCHAR, MODEL_NAME, MODEL_TAG_VALUE, TAG_KEY
from reconciler.files.convert import from_document
from reconciler.registry import mlflow_rules
from reconciler.state import Origin

ALPHABET = st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Z", "Cc"))
# Strings built from the characters that matter to these rules, so edge cases come up often.
EDGY = st.lists(st.sampled_from([*"aZ09_-./: \n\tLATESTvVé", "..", "//"]), max_size=12).map("".join)
NAMES = st.one_of(st.text(ALPHABET, max_size=20), EDGY)


_VALIDATORS: dict[int, jsonschema.Draft202012Validator] = {}


def accepts(schema: dict, value: str) -> bool:
    validator = _VALIDATORS.setdefault(id(schema), jsonschema.Draft202012Validator(schema))
    return validator.is_valid(value)


def mlflow_accepts(check, *args) -> bool:
    try:
        check(*args)
    except MlflowException:
        return False
    return True


@settings(max_examples=1000, deadline=None)
@given(NAMES)
@example("team/")
@example("a/../b")
@example("..a")
@example("a\n")
def test_tag_keys_the_schema_accepts_mlflow_accepts(key):
    if accepts(TAG_KEY, key):
        assert mlflow_accepts(v._validate_registered_model_tag, key, "x"), key
        assert mlflow_accepts(v._validate_model_version_tag, key, "x"), key


@settings(max_examples=1000, deadline=None)
@given(NAMES)
@example("Latest")
@example("LATEST")
@example("V12")
@example("champion\n")
def test_aliases_the_schema_accepts_mlflow_accepts(alias):
    if accepts(ALIAS_NAME, alias):
        assert mlflow_accepts(v._validate_model_alias_name, alias), alias
        assert mlflow_accepts(v._validate_model_alias_name_reserved, alias), alias


@settings(max_examples=1000, deadline=None)
@given(NAMES)
@example(".")
@example("..")
@example("..x")
@example(" ")
def test_model_names_the_schema_accepts_mlflow_accepts(name):
    if accepts(MODEL_NAME, name):
        assert mlflow_accepts(v._validate_model_name, name), name


@pytest.mark.parametrize(
    ("schema", "value"),
    [(TAG_KEY, "team/"), (TAG_KEY, "a/../b"), (ALIAS_NAME, "Latest"), (ALIAS_NAME, "LATEST"), (MODEL_NAME, ".")],
)
def test_the_reported_cases_are_refused_by_the_schema(schema, value):
    assert not accepts(schema, value)


def test_values_longer_than_the_database_column_are_refused():
    assert not accepts(MODEL_TAG_VALUE, "x" * (DB_VARCHAR + 1)) and accepts(MODEL_TAG_VALUE, "x" * DB_VARCHAR)


def test_apply_calls_mlflow_s_validators_too():
    """Belt and braces: a value that slipped past the schema is still refused before any write."""
    doc = {"name": "m", "tags": {"a/../b": "x"}, "aliases": {"Latest": 1}, "description": "d" * 6000}
    errors = [str(e) for e in mlflow_rules.check([from_document(doc, Origin("models/m.yaml"))])]
    assert len(errors) == 3 and all(e.startswith("models/m.yaml: /") for e in errors)
    assert any("/aliases/Latest: MLflow refuses it" in e for e in errors)
