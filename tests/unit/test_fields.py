"""The field declarations drive the schema, the loader and the importer: checks of that wiring."""

from __future__ import annotations

from reconciler.fields import FIELDS, Kind, Level
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
