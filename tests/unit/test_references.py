"""Reference checks and import, on typed values (no registry)."""

from __future__ import annotations

from reconciler.files.convert import from_document
from reconciler.files.importer import live_document
from reconciler.plan.references import check_references
from reconciler.state import LiveState, LiveVersion, Origin, Run, Stage, frozen_map
from tests.support.simulate import live_model


def _live(run_status: str, deleted: bool = False) -> LiveState:
    m = live_model("m", [Stage.NONE, Stage.NONE], {"challenger": 2}, {})
    v2 = m.versions[2]
    versions = {**m.versions, 2: LiveVersion(2, v2.values, run_id="run2", status="READY")}
    model = type(m)(m.name, m.values, frozen_map(versions))
    return LiveState(frozen_map({"m": model}), frozen_map({"run2": Run(run_status, deleted=deleted)}))


def test_a_version_from_a_failed_run_cannot_gain_another_alias():
    """It already holds `challenger`; gaining `champion` is a new promotion and its run is checked
    (before the fix, holding any alias skipped the check)."""
    model = from_document({"name": "m", "aliases": {"challenger": 2, "champion": 2}}, Origin("models/m.yaml"))
    (error,) = check_references([model], _live("FAILED"), changed_only=True)
    assert "version 2: its training run run2 failed" in str(error)
    assert not check_references([model], _live("FINISHED"), changed_only=True)


def test_a_version_whose_run_is_deleted_cannot_be_promoted():
    """hostile6 #2: a run in the trash (`mlflow gc` removes it, and the evidence with it)."""
    model = from_document({"name": "m", "aliases": {"challenger": 2, "champion": 2}}, Origin("models/m.yaml"))
    (error,) = check_references([model], _live("FINISHED", deleted=True), changed_only=True)
    assert "version 2: its training run run2 is deleted (in the tracking server's trash" in str(error)
    assert "mlflow runs restore" in str(error) and "\n" not in str(error)


def test_a_missing_version_names_the_file_line_and_pointer():
    lines = {("aliases", "champion"): 4}
    model = from_document({"name": "m", "aliases": {"champion": 9}}, Origin("models/m.yaml", lines.get))
    (error,) = check_references([model], _live("FINISHED"), changed_only=True)
    assert str(error).startswith("models/m.yaml:4: /aliases/champion: model 'm' has no version 9")


def test_import_writes_the_stage_of_every_version_it_lists_none_included():
    doc = live_document(live_model("m", [Stage.NONE, Stage.PRODUCTION, Stage.NONE], {}, {}), frozenset({1}))
    assert doc["versions"] == {1: {"stage": "None"}, 2: {"stage": "Production"}}


def test_import_keeps_a_files_permissions_as_they_are():
    """Import writes what the model and version searches return; grants are read only for plans."""
    from reconciler.files.importer import render_file

    existing = "name: m\ndescription: old\npermissions:   # who may use it\n  analyst: READ\n"
    text = render_file(live_model("m", [Stage.NONE], {}, {}, {"analyst": "EDIT", "ops": "READ"}), existing, "m.yaml")
    assert "permissions:   # who may use it\n  analyst: READ\n" in text and "ops" not in text
    assert "description:" not in text  # the registry's (empty) description is imported, as before


def test_an_unfit_promotion_names_the_line_that_promotes_it():
    """The alias (or the stage) that promotes a version from a failed run is what to fix: its line and
    pointer, not the `versions:` entry (found by a hostile review: the message pointed at `versions:`)."""
    lines = {("aliases", "champion"): 17, ("versions", "2"): 20, ("versions", "2", "stage"): 21}
    doc = {"name": "m", "aliases": {"champion": 2}, "versions": {"2": {"description": "d"}}}
    (error,) = check_references([from_document(doc, Origin("models/m.yaml", lines.get))], _live("FAILED"), True)
    assert str(error).startswith("models/m.yaml:17: /aliases/champion: model 'm' version 2: its training run")
    doc = {"name": "m", "versions": {"2": {"stage": "Production"}}}
    (error,) = check_references([from_document(doc, Origin("models/m.yaml", lines.get))], _live("FAILED"), True)
    assert str(error).startswith("models/m.yaml:21: /versions/2/stage: model 'm' version 2: its training run")


def test_the_unmanaged_model_hint_is_a_command_that_works_or_says_why_there_is_none():
    from reconciler.plan.builder import build_plan

    live = LiveState(frozen_map({n: live_model(n, [Stage.NONE], {}, {}) for n in ("a b", "_under")}))
    notes = {n.address.model: n.message for n in build_plan([], live).notes}
    assert notes["a b"].endswith("this writes one: reconciler import 'a b'")
    assert "a file name starting with '_' is a settings file" in notes["_under"] and "import" not in notes["_under"]


def test_only_the_reconcilers_own_models_are_hidden_other_gitops_models_are_reported():
    """Every `gitops.*` model was dropped from the live state, so plan and drift never showed one."""
    from reconciler.plan.builder import build_plan
    from reconciler.registry.live import assemble

    live = assemble([{"name": "gitops.lock"}, {"name": "gitops.extra"}, {"name": "-rf"}], [])
    assert sorted(live.models) == ["-rf", "gitops.extra"]
    notes = {n.address.model: n.message for n in build_plan([], live).notes}
    assert notes["-rf"].endswith("this writes one: reconciler import -- -rf")
    assert (
        "'gitops.' namespace is the reconciler's own" in notes["gitops.extra"] and "import" not in notes["gitops.extra"]
    )


def test_a_name_no_terminal_shows_as_it_is_gets_a_command_in_ansi_c_quoting():
    from reconciler.files.modelnames import import_command

    assert import_command("a\u00a0b") == "reconciler import $'a\\u00a0b'"
    assert import_command("jose\u0301") == "reconciler import $'jose\\u0301'"
    assert import_command("it's") == "reconciler import 'it'\"'\"'s'"
