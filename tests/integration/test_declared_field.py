"""One declaration per field, for real: two fields declared here and nowhere else (a map on models,
`stickers`, and a scalar on versions, `memo`, each with its own reads and writes) go through load,
validate, plan, render, save, import and apply, against tests/support/simulate.py and against a real
`mlflow server` (read over REST and through its database), with no other module knowing their names.

They keep their values in registry tags under the reconciler's own `gitops.` namespace, which the user
tags field never reads, so no two fields claim one tag. The table is extended for each test with
`fields.registered()` and restored after it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from reconciler import engine, fields
from reconciler.apply import execute
from reconciler.apply.audit import Audit
from reconciler.errors import DesiredStateError
from reconciler.fields import Field, Kind, Level, MlflowCheck
from reconciler.fields.fingerprint import model_json
from reconciler.fields.seams import EntryAddress, WriteClients, entry
from reconciler.files import importer, schemacheck
from reconciler.files.convert import from_document
from reconciler.plan import render, saved_plan
from reconciler.plan.builder import build_plan
from reconciler.registry import mlflow_rules
from reconciler.registry.session import Session
from reconciler.registry.target import Target
from reconciler.state import LiveState, Origin, frozen_map
from tests.support import livejson
from tests.support.simulate import apply as simulate

REPO = Path(__file__).resolve().parents[2]
STICKER = "gitops.sticker."  # a model tag per sticker: gitops.sticker.<name> = <value>
MEMO = "gitops.memo"  # a version tag


def _stickers(tags: Iterable[tuple[str, Any]]) -> Mapping[str, str]:
    return frozen_map({k[len(STICKER) :]: v or "" for k, v in tags if k.startswith(STICKER)})


def _sticker_checks(stickers: Mapping[str, str]) -> Iterator[MlflowCheck]:
    for name, value in stickers.items():
        yield (name,), "_validate_tag_name", (STICKER + name,)
        yield (name,), "_validate_length_limit", ("tag value", 5000, value)


def _set_sticker(clients: WriteClients, address: EntryAddress, value: str) -> None:
    clients.registry.set_registered_model_tag(address.model, STICKER + entry(address), value)


def _remove_sticker(clients: WriteClients, address: EntryAddress) -> None:
    clients.registry.delete_registered_model_tag(address.model, STICKER + entry(address))


def _memo(tags: Iterable[tuple[str, Any]]) -> str:
    return next((v or "" for k, v in tags if k == MEMO), "")


def _set_memo(clients: WriteClients, address: EntryAddress, value: str) -> None:
    clients.registry.set_model_version_tag(address.model, str(address.version), MEMO, value)


STICKERS = Field(
    name="sticker",
    file_key="stickers",
    level=Level.MODEL,
    kind=Kind.MAP,
    schema={
        "type": "object",
        "propertyNames": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$", "description": "A sticker: a-z, 0-9, _"},
        "additionalProperties": {"type": "string", "maxLength": 40},
    },
    read=lambda raw: _stickers((t["key"], t.get("value", "")) for t in raw.get("tags", ())),
    read_entity=lambda m: _stickers(m.tags.items()),
    to_json=lambda stickers: {"tags": [{"key": STICKER + k, "value": v} for k, v in stickers.items()]},
    write=_set_sticker,
    delete=_remove_sticker,
    prune="stickers",
    empty=frozen_map(),
    mlflow_checks=_sticker_checks,
)
MEMO_FIELD = Field(
    name="memo",
    file_key="memo",
    level=Level.VERSION,
    kind=Kind.SCALAR,
    schema={"type": "string", "maxLength": 200},
    read=lambda raw: _memo((t["key"], t.get("value", "")) for t in raw.get("tags", ())),
    read_entity=lambda v: _memo(v.tags.items()),
    to_json=lambda memo: {"tags": [{"key": MEMO, "value": memo}] if memo else []},
    write=_set_memo,
    empty="",
)

FILE = """\
name: {name}
description: declared here
stickers:
  color: teal
  size: large
versions:
  "1":
    memo: first of its name
policy:
  prune:
    stickers: true
"""


@pytest.fixture
def declared() -> Iterator[None]:
    assert fields.table() == fields.FIELDS
    with fields.registered(STICKERS, MEMO_FIELD):
        yield
    assert fields.table() == fields.FIELDS


def _write(root: Path, name: str, text: str) -> Path:
    models = root / "models"
    models.mkdir(parents=True, exist_ok=True)
    (models / f"{name}.yaml").write_text(text)
    return models


def _lines(plan) -> list[str]:
    return [render.line(c) for c in plan.changes]


def test_no_module_of_the_product_or_the_test_support_knows_the_declared_fields():
    for path in [*(REPO / "reconciler").rglob("*.py"), *(REPO / "tests" / "support").rglob("*.py")]:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"sticker|\bmemo\b", text), path
    assert "stickers" not in (REPO / "schemas" / "model.schema.json").read_text()


def test_a_field_declared_here_loads_validates_plans_renders_imports_and_applies_in_memory(declared, tmp_path):
    name = "declared"
    compact = {
        "models": {
            name: {
                "description": "",
                "tags": {"team": "search"},
                "stickers": {"color": "red", "old": "x"},
                "versions": {"1": {"stage": "None"}, "2": {"stage": "None", "memo": "kept"}},
            }
        }
    }
    # The fake's REST JSON comes from the declarations: the stickers join the user tags' list.
    rest = livejson.rest_model(name, compact["models"][name])
    assert {"key": "team", "value": "search"} in rest["tags"] and {"key": STICKER + "old", "value": "x"} in rest["tags"]
    live = livejson.live_from_json(compact)
    assert live.models[name].values["stickers"] == {"color": "red", "old": "x"}
    assert live.models[name].values["tags"] == {"team": "search"}  # the user tags field does not claim them
    assert live.models[name].versions[2].values["memo"] == "kept"

    desired = engine.load(_write(tmp_path, name, FILE.format(name=name)))
    assert desired[0].values["stickers"] == {"color": "teal", "size": "large"}
    plan = build_plan(desired, live, "sqlite:///declared.db")
    assert _lines(plan) == [
        "~ description: '' -> 'declared here'",
        "~ sticker[color]: 'red' -> 'teal'",
        "+ sticker[size] = 'large'",
        "~ v1 memo: '' -> 'first of its name'",
        "- sticker[old] (was 'x')   (policy.prune)",  # removals after the rest, as every map's
    ]
    assert [str(n.address) for n in plan.notes] == [f"{name} tag[team]"]
    console = Console(record=True, width=160, color_system=None)
    render.to_text(plan, console)
    assert "+ sticker[size] = 'large'" in console.export_text()
    assert "| + | <code>sticker&#91;size&#93;</code> |  | <code>&#39;large&#39;</code> |  |" in render.to_markdown(plan)

    saved = tmp_path / "plan.json"
    saved.write_text(saved_plan.text(plan))
    again = saved_plan.read(saved)
    assert again.plan_hash == plan.plan_hash and again.desired[0].values["stickers"] == {
        "color": "teal",
        "size": "large",
    }

    after = simulate(again, live)
    assert not build_plan(desired, after, "sqlite:///declared.db").has_changes()
    assert after.models[name].values["stickers"] == {"color": "teal", "size": "large"}

    imported = importer.render_file(after.models[name], None, f"models/{name}.yaml")
    assert "stickers:" in imported and "memo: first of its name" in imported and "memo: kept" in imported
    reloaded = engine.load(_write(tmp_path / "imported", name, imported))
    assert not build_plan(reloaded, after, "sqlite:///declared.db").has_changes()


def test_a_declared_field_is_validated_by_its_schema_and_by_mlflow(declared, tmp_path):
    bad = FILE.format(name="bad").replace("size: large", "Size: large")
    with pytest.raises(DesiredStateError) as e:
        engine.load(_write(tmp_path, "bad", bad))
    assert str(e.value) == (
        f"{tmp_path / 'models' / 'bad.yaml'}:3: /stickers: 'Size' is not allowed here. A sticker: a-z, 0-9, _; "
        "see schemas/model.schema.json"
    )
    # Past the schema (a document built in memory), MLflow's validator that the declaration names refuses it.
    model = from_document({"name": "m", "stickers": {"a/../b": "x"}}, Origin("models/m.yaml"))
    errors = [str(x) for x in mlflow_rules.check([model])]
    assert len(errors) == 1 and errors[0].startswith(
        'models/m.yaml: /stickers/a~1..~1b: MLflow refuses it: Invalid value "gitops.sticker.a/../b" for parameter'
    )


def test_without_the_declaration_the_file_key_is_unknown_again(tmp_path):
    with fields.registered(STICKERS, MEMO_FIELD):
        assert "stickers" in schemacheck.schema()["properties"]
    assert fields.table() == fields.FIELDS and "stickers" not in schemacheck.schema()["properties"]
    with pytest.raises(DesiredStateError, match="unknown key 'stickers'; check the spelling"):
        engine.load(_write(tmp_path, "plain", FILE.format(name="plain")))


def test_the_table_refuses_a_second_declaration_of_a_field():
    with pytest.raises(ValueError, match="already declares it"), fields.registered(STICKERS, STICKERS):
        pass
    assert fields.table() == fields.FIELDS


@pytest.mark.integration
def test_a_field_declared_here_applies_to_a_real_server_read_over_rest_and_from_its_database(
    declared, live_stack, tmp_path
):
    name = f"it-declared-{os.getpid()}"
    env = live_stack.env("reconciler")
    with pytest.MonkeyPatch.context() as mp:
        for key in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
            mp.setenv(key, env[key])
        session = Session.open(Target(live_stack.server.uri, live_stack.server.uri, embedded=False), write=True)
        client = session.clients.registry
        client.create_registered_model(name)
        for n in (1, 2):
            client.create_model_version(name, source=f"s3://mlflow/artifacts/declared/{name}/{n}")
        client.set_registered_model_tag(name, "team", "search")
        client.set_registered_model_tag(name, STICKER + "color", "red")
        client.set_registered_model_tag(name, STICKER + "old", "x")
        client.set_model_version_tag(name, "2", MEMO, "kept")

        desired = engine.load(_write(tmp_path, name, FILE.format(name=name)))
        plan, before = engine.plan_and_live(session, desired)
        assert _lines(plan) == [
            "~ description: '' -> 'declared here'",
            "~ sticker[color]: 'red' -> 'teal'",
            "+ sticker[size] = 'large'",
            "~ v1 memo: '' -> 'first of its name'",
            "- sticker[old] (was 'x')   (policy.prune)",
        ]
        saved = tmp_path / "plan.json"
        saved.write_text(saved_plan.text(plan))
        report = execute.apply(
            session, saved_plan.read(saved), Audit(plan.plan_hash, actor="declared-field"), execute.ApplyOptions()
        )
        assert not report.failed() and not report.unrecorded(), report

        # MLflow holds what the declarations wrote, where they wrote it.
        tags = client.get_registered_model(name).tags
        assert {k: v for k, v in tags.items() if k.startswith(STICKER)} == {
            STICKER + "color": "teal",
            STICKER + "size": "large",
        }
        assert tags["team"] == "search" and client.get_model_version(name, "1").tags[MEMO] == "first of its name"

        after_plan, after = engine.plan_and_live(session, desired)
        assert not after_plan.has_changes(), _lines(after_plan)
        assert model_json(after.models[name]) == model_json(simulate(plan, before).models[name])

        # The same registry through its database (MLflow's store entities, `Field.read_entity`).
        database = Session(Target(*[live_stack.server.env["MLFLOW_BACKEND_STORE_URI"]] * 2, embedded=False))
        assert _managed(database.read(), name) == _managed(after, name)
        assert _managed(after, name)[1][STICKER + "size"] == "large"

        imported = importer.render_file(after.models[name], None, f"models/{name}.yaml")
        reloaded = engine.load(_write(tmp_path / "imported", name, imported))
        assert not engine.plan(session, reloaded).has_changes()


def _managed(live: LiveState, name: str) -> tuple[dict[str, Any], dict[str, str]]:
    """What the reconciler reads of a model: its managed fields, and its own tags (the audit record, and
    the declared fields' tags)."""
    m = live.models[name]
    return model_json(m), dict(m.reserved_tags)
