"""The field declarations drive the schema, the loader and the importer: checks of that wiring."""

from __future__ import annotations

import json

import pytest

from reconciler import fields
from reconciler.fields import FIELDS, Field, Kind, Level
from reconciler.files import schemagen
from reconciler.files.convert import from_document, to_document
from reconciler.state import Origin


def test_the_committed_schema_is_the_declarations_schema():
    committed = schemagen.SCHEMA_PATH.read_text(encoding="utf-8")
    assert committed == schemagen.text(), (
        "schemas/model.schema.json is out of date: python -m reconciler.files.schemagen --write"
    )


def test_every_declared_field_is_in_the_schema_at_its_level():
    built = schemagen.build()
    version = built["properties"]["versions"]["additionalProperties"]["properties"]
    for f in FIELDS:
        where = built["properties"] if f.level is Level.MODEL else version
        assert where[f.file_key] == f.schema
        if f.kind is Kind.MAP:
            assert f.delete is not None, f"{f.name}: a map field needs a delete"


def test_a_document_round_trips_through_the_typed_model():
    doc = {
        "name": "m",
        "owners": ["lead"],
        "description": "d",
        "tags": {"team": "a"},
        "aliases": {"champion": 2},
        "permissions": {"analyst": "READ", "training-bot": "EDIT"},
        "versions": {"2": {"stage": "Production", "description": "v2", "tags": {"k": "v"}}},
        "policy": {"exclusive_stages": ["Production"], "keep_latest": 3, "prune": {"permissions": True, "tags": True}},
    }
    model = from_document(doc, Origin("models/m.yaml"))
    assert to_document(model) == doc
    assert model.versions[2].stage.value == "Production" and model.aliases == {"champion": 2}


def _mlflow_entities():
    """A registered model and a version as MLflow's store returns them, and their REST JSON as MLflow's
    own server writes it (the entity's proto through message_to_json)."""
    from mlflow.entities.model_registry import (
        ModelVersion,
        ModelVersionTag,
        RegisteredModel,
        RegisteredModelAlias,
        RegisteredModelTag,
    )
    from mlflow.utils.proto_json_utils import message_to_json

    model = RegisteredModel(
        "m",
        description="the model",
        tags=[RegisteredModelTag("team", "search"), RegisteredModelTag("gitops.audit", "{}")],
        aliases=[RegisteredModelAlias("champion", "3")],
    )
    version = ModelVersion(
        "m", "3", 0, current_stage="Production", description="v3", tags=[ModelVersionTag("k", "")], run_id="r1"
    )
    return [
        (Level.MODEL, model, json.loads(message_to_json(model.to_proto()))),
        (Level.VERSION, version, json.loads(message_to_json(version.to_proto()))),
    ]


def test_every_registry_field_reads_mlflow_s_entities_as_it_reads_mlflow_s_json():
    seen = set()
    for level, entity, rest in _mlflow_entities():
        for f in fields.native(level):
            value = f.read(rest)
            assert f.read_entity is not None and f.read_entity(entity) == value, f"{level.value} {f.name}"
            assert value != f.empty, f"{level.value} {f.name}: the case should set it"
            seen.add((level, f.name))
    assert seen == {(f.level, f.name) for f in FIELDS if f.fetch is None}


def test_every_registry_field_writes_the_json_it_reads():
    for level, _, rest in _mlflow_entities():
        for f in fields.native(level):
            value = f.read(rest)
            assert f.to_json is not None and f.read(f.to_json(value)) == value, f"{level.value} {f.name}"
            assert f.read(f.to_json(f.empty)) == f.empty


def test_a_declaration_says_everything_its_kind_needs():
    base = {"name": "x", "file_key": "x", "schema": {}, "read": dict, "write": lambda c, a, v: None}
    with pytest.raises(ValueError, match="a registry field needs read_entity and to_json"):
        Field(level=Level.MODEL, kind=Kind.SCALAR, **base)
    native = {**base, "read_entity": dict, "to_json": dict}
    with pytest.raises(ValueError, match="a map field needs a delete"):
        Field(level=Level.MODEL, kind=Kind.MAP, **native)
    with pytest.raises(ValueError, match="governance protects model maps and version scalars"):
        Field(level=Level.MODEL, kind=Kind.SCALAR, guard="stages", **native)
