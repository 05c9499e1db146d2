"""The review policy file and `review:` blocks: what loads, and bad input as one clear line."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from reconciler.errors import DesiredStateError, ValidationErrors
from reconciler.files.convert import from_document, to_document
from reconciler.files.desired import load_models, model_files
from reconciler.governance import policyschema as policy_schema
from reconciler.governance.policy import (
    DEFAULT_TIER,
    ReviewPolicy,
    Tier,
    combined,
    effective,
    load_policy,
    load_repository_policy,
)
from reconciler.governance.repository import load_base, load_checked
from reconciler.state import Gate, GateRule, Origin, Stage

POLICY = """\
# yaml-language-server: $schema=../schemas/policy.schema.json
owners: ["@acme/ml-platform"]
changes:
  approvals: 1
  from: [model-owners]
protected:
  aliases: [champion]
  stages: [Production]
  approvals: 2
  from: [model-owners, "@acme/ml-leads"]
  gates:
    - {metric: accuracy, at_least: 0.9}
    - {metric: accuracy, no_worse_than_current_by: 0.01}
    - {metric: rmse, no_worse_than_current_by: 0.5, lower_is_better: true}
"""


def test_the_committed_policy_schema_is_current():
    committed = policy_schema.SCHEMA_PATH.read_text(encoding="utf-8")
    assert committed == policy_schema.text(), "run: python -m reconciler.governance.policyschema --write"
    assert json.loads(committed)["$id"].endswith("/policy.schema.json")


def test_a_policy_loads_as_typed_values(tmp_path):
    path = tmp_path / "_policy.yaml"
    path.write_text(POLICY)
    p = load_policy(path)
    assert p.owners == ("@acme/ml-platform",) and p.source == str(path)
    assert p.changes == Tier(1, ("model-owners",))
    assert p.protected.approvals == 2 and p.protected.from_ == ("model-owners", "@acme/ml-leads")
    assert p.aliases == {"champion"} and p.stages == {Stage.PRODUCTION}
    assert p.protected.gates == (
        Gate("accuracy", GateRule.AT_LEAST, 0.9),
        Gate("accuracy", GateRule.NO_WORSE_THAN_CURRENT_BY, 0.01),
        Gate("rmse", GateRule.NO_WORSE_THAN_CURRENT_BY, 0.5, lower_is_better=True),
    )
    assert load_policy(POLICY, "base:models/_policy.yaml") == replace(p, source="base:models/_policy.yaml")


def test_no_policy_file_means_the_defaults(tmp_path):
    p = load_repository_policy(tmp_path)
    assert p == ReviewPolicy() and p.changes == DEFAULT_TIER and not p.aliases and not p.stages and not p.owners


def test_protected_defaults_to_the_changes_tier():
    p = load_policy("owners: [a]\nchanges: {approvals: 3, from: [b]}\nprotected: {aliases: [champion]}\n")
    assert p.protected == Tier(3, ("b",))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("owners: [a]\nchanges: {approvals: two}\n", ":2: /changes/approvals: 'two' is not of type 'integer'"),
        ("owners: [a]\nprotectd: {}\n", "_policy.yaml:2: /: unknown key 'protectd'; check the spelling"),
        ("changes: {approvals: 1}\n", "_policy.yaml:1: /: 'owners' is a required property"),
        ("owners: []\n", "_policy.yaml:1: /owners: [] should be non-empty"),
        ('owners: ["alice\\n"]\n', "_policy.yaml:1: /owners/0: 'alice\\n' is not allowed here. A GitHub login"),
        ("owners: ['a b']\n", "/owners/0: 'a b' is not allowed here. A GitHub login"),
        ("owners: [a]\nprotected: {stages: [Archived]}\n", ":2: /protected/stages/0: 'Archived' is not one of"),
        ("owners: [a]\nprotected: {approvals: 0}\n", "/protected/approvals: 0 is less than the minimum of 1"),
        ("owners: [a]\nchanges: {from: []}\n", "/changes/from: [] should be non-empty"),
        ("owners: [a]\nchanges: {from: ['bad team!']}\n", "/changes/from/0: 'bad team!' is not"),
        (
            "owners: [a]\nprotected:\n  gates:\n    - {metric: 'acc|uracy', at_least: 1}\n",
            "_policy.yaml:4: /protected/gates/0/metric: 'acc|uracy' is not allowed here. A metric",
        ),
        (
            "owners: [a]\nprotected:\n  gates:\n    - {metric: accuracy, at_least: 0.9, at_most: 1}\n",
            "_policy.yaml:4: /protected/gates/0: a gate has exactly one of at_least, at_most, "
            "no_worse_than_current_by (found: at_least, at_most); write one gate per rule",
        ),
        (
            "owners: [a]\nprotected:\n  gates:\n    - {metric: accuracy}\n",
            "/protected/gates/0: a gate has exactly one of at_least, at_most, no_worse_than_current_by (found: none)",
        ),
        (
            "owners: [a]\nprotected:\n  gates:\n    - metric: accuracy\n      at_least: 0.9\n"
            "      lower_is_better: true\n",
            "_policy.yaml:6: /protected/gates/0/lower_is_better: lower_is_better applies to no_worse_than_current_by "
            "only",
        ),
        (
            "owners: [a]\nprotected:\n  gates:\n    - metric: accuracy\n      at_least: .nan\n",
            "_policy.yaml:5: /protected/gates/0/at_least: nan is not a finite number",
        ),
        (
            "owners: [a]\nprotected:\n  gates:\n    - {metric: loss, no_worse_than_current_by: -1}\n",
            "/protected/gates/0/no_worse_than_current_by: -1 is less than the minimum of 0",
        ),
        ("- owners\n", "_policy.yaml:1: expected a mapping with at least 'owners:'; see schemas/policy.schema.json"),
        ("", "_policy.yaml:1: the file is empty"),
        ("owners: [a\n", "_policy.yaml:2: invalid YAML"),
        ("owners: [a]\nowners: [b]\n", "_policy.yaml:2: duplicate key 'owners' (also on line 1); keep one"),
        ("owners: !!python/object/apply:os.system [echo hi]\n", "_policy.yaml:1: YAML tag"),
    ],
)
def test_a_bad_policy_is_one_clear_line(tmp_path, text, expected):
    path = tmp_path / "_policy.yaml"
    path.write_text(text)
    with pytest.raises(DesiredStateError) as info:
        load_policy(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(path)), message
    assert expected in message, message


def test_a_huge_policy_is_refused_before_parsing(tmp_path):
    path = tmp_path / "_policy.yaml"
    path.write_text("owners: [a]\n#" + "x" * (1024 * 1024) + "\n")
    with pytest.raises(DesiredStateError, match="larger than 1024 KiB"):
        load_policy(path)
    with pytest.raises(DesiredStateError, match="larger than 1024 KiB"):
        load_policy(path.read_text())


def test_policy_and_settings_files_are_not_model_files(tmp_path):
    (tmp_path / "_policy.yaml").write_text(POLICY)
    (tmp_path / "_notes.yml").write_text("anything: at all\n")
    (tmp_path / "churn.yaml").write_text("name: churn\n")
    assert [p.name for p in model_files(tmp_path)] == ["churn.yaml"]
    assert [m.name for m in load_models(tmp_path)] == ["churn"]


def write(models: Path, files: dict[str, str]) -> Path:
    models.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (models / name).write_text(text)
    return models


TIGHTER = """\
name: churn
owners: [alice, bob]
review:
  changes: {approvals: 2}
  protected:
    aliases: [challenger]
    stages: [Staging]
    approvals: 3
    from: ["@ACME/ML-LEADS"]
    gates:
      - {metric: f1, at_least: 0.8}
"""


def test_a_review_block_that_tightens_is_accepted_and_applied(tmp_path):
    policy, (model,) = load_checked(write(tmp_path / "models", {"_policy.yaml": POLICY, "churn.yaml": TIGHTER}))
    rules = effective(policy, model)
    assert rules.changes == Tier(2, ("model-owners",))
    assert rules.protected.approvals == 3 and rules.protected.from_ == ("@ACME/ML-LEADS",)
    assert rules.protected.gates[-1] == Gate("f1", GateRule.AT_LEAST, 0.8) and len(rules.protected.gates) == 4
    assert rules.aliases == {"champion", "challenger"} and rules.stages == {Stage.PRODUCTION, Stage.STAGING}
    assert rules.owners == ("alice", "bob") and rules.approvers(rules.changes) == ("alice", "bob")


LOOSER = """\
name: churn
owners: [alice]
review:
  changes:
    approvals: 0
  protected:
    approvals: 1
    from: [model-owners, mallory]
"""


def test_a_review_block_that_loosens_is_an_error_per_rule_with_file_and_line(tmp_path):
    models = write(tmp_path / "models", {"_policy.yaml": POLICY, "churn.yaml": LOOSER})
    with pytest.raises(ValidationErrors) as info:
        load_checked(models)
    lines = [str(e) for e in info.value.errors]
    source = models / "churn.yaml"
    assert lines == [
        f"{source}:5: /review/changes/approvals: 0 is fewer than the 1 that {models / '_policy.yaml'} requires "
        "(changes.approvals); a model file may only tighten the policy: set 1 or more, or remove it",
        f"{source}:7: /review/protected/approvals: 1 is fewer than the 2 that {models / '_policy.yaml'} requires "
        "(protected.approvals); a model file may only tighten the policy: set 2 or more, or remove it",
        f"{source}:8: /review/protected/from: 'mallory' may not approve under {models / '_policy.yaml'} "
        "(protected.from: model-owners, @acme/ml-leads); a model file may only narrow who approves: remove them, "
        "or change the policy in its own pull request",
    ]


def test_a_review_block_is_judged_against_the_defaults_without_a_policy_file(tmp_path):
    models = write(tmp_path / "models", {"churn.yaml": "name: churn\nreview: {changes: {approvals: 0}}\n"})
    with pytest.raises(ValidationErrors, match="the default policy"):
        load_checked(models)


def test_bad_gates_in_a_review_block_name_the_model_file_line(tmp_path):
    text = "name: churn\nreview:\n  protected:\n    gates:\n      - {metric: f1, at_least: 1, at_most: 2}\n"
    with pytest.raises(ValidationErrors) as info:
        load_models(write(tmp_path / "models", {"churn.yaml": text}))
    (error,) = info.value.errors
    assert str(error).startswith(f"{tmp_path / 'models' / 'churn.yaml'}:5: /review/protected/gates/0: a gate has")


def test_every_problem_of_a_checkout_is_reported_together(tmp_path):
    models = write(tmp_path / "models", {"_policy.yaml": "owners: [a]\nextra: 1\n", "churn.yaml": "name: nope\n"})
    with pytest.raises(ValidationErrors) as info:
        load_checked(models)
    sources = [str(e).split(":")[0] for e in info.value.errors]
    assert sources == [str(models / "churn.yaml"), str(models / "_policy.yaml")]


def test_the_review_block_round_trips_through_the_document_form():
    doc = {
        "name": "churn",
        "review": {
            "changes": {"approvals": 2, "from": ["alice"]},
            "protected": {
                "approvals": 3,
                "aliases": ["a", "b"],
                "stages": ["Staging"],
                "gates": [{"metric": "loss", "no_worse_than_current_by": 0.5, "lower_is_better": True}],
            },
        },
    }
    model = from_document(doc, Origin("models/churn.yaml"))
    assert to_document(model)["review"] == doc["review"]
    assert from_document(to_document(model), Origin("models/churn.yaml")) == model
    assert "review" not in to_document(from_document({"name": "m"}, Origin("m.yaml")))


def test_combined_never_loosens_even_for_a_base_file_that_would_not_validate_today():
    policy = load_policy(POLICY)
    model = from_document(
        {"name": "churn", "owners": ["alice"], "review": {"changes": {"approvals": 0, "from": ["mallory"]}}},
        Origin("base/churn.yaml"),
    )
    rules = combined(policy, model)
    assert rules.changes == policy.changes
    assert combined(policy, None, "new").owners == policy.owners


def test_a_model_without_owners_is_owned_by_the_policy_owners():
    policy = load_policy(POLICY)
    rules = combined(policy, from_document({"name": "m"}, Origin("m.yaml")))
    assert rules.approvers(rules.changes) == ("@acme/ml-platform",)


def test_load_base_skips_a_broken_model_file_and_refuses_a_broken_policy(tmp_path):
    models = write(tmp_path / "models", {"_policy.yaml": POLICY, "ok.yaml": "name: ok\n", "bad.yaml": "name: [\n"})
    base = load_base(models)
    assert list(base.models) == ["ok"] and len(base.skipped) == 1 and "bad.yaml" in base.skipped[0]
    assert load_base(tmp_path / "missing").models == {}
    (models / "_policy.yaml").write_text("owners: 3\n")
    with pytest.raises(DesiredStateError, match="/owners"):
        load_base(models)


def run_cli(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_validate_offline_checks_the_policy_and_review_blocks(tmp_path):
    write(tmp_path / "models", {"_policy.yaml": POLICY, "churn.yaml": LOOSER})
    done = run_cli(tmp_path, "validate", "--offline")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.count("error: ") == 3 and "/review/protected/from" in done.stderr
    (tmp_path / "models" / "churn.yaml").write_text(TIGHTER)
    (tmp_path / "models" / "_policy.yaml").write_text("owners: [a]\nchanges: {approvals: -1}\n")
    done = run_cli(tmp_path, "validate", "--offline")
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "error: models/_policy.yaml:2: /changes/approvals: -1 is less than the minimum of 0; "
        "see schemas/policy.schema.json"
    )
    (tmp_path / "models" / "_policy.yaml").write_text(POLICY)
    done = run_cli(tmp_path, "validate", "--offline")
    assert done.returncode == 0 and "1 model file(s) in models are valid" in done.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["models"]  # nothing written


def test_offline_validation_and_codeowners_import_no_mlflow(tmp_path):
    write(tmp_path / "models", {"_policy.yaml": POLICY, "churn.yaml": TIGHTER})
    script = (
        "import sys\n"
        "from reconciler.cli import cli\n"
        "for args in (['validate', '--offline'], ['codeowners', '--file', 'CODEOWNERS']):\n"
        "    cli.main(args=args, standalone_mode=False)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('mlflow', 'githubkit')))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_import_keeps_the_review_block_and_never_writes_a_settings_file():
    from reconciler.files.importer import render_file
    from reconciler.state import LiveModel

    existing = "name: churn\nowners: [alice]\nreview:\n  changes: {approvals: 2}  # two, always\n"
    text = render_file(LiveModel("churn", {"description": "d"}), existing, "models/churn.yaml")
    assert "review:\n  changes: {approvals: 2}  # two, always\n" in text and "description: d" in text
    for existing_policy in (None, "owners: [a]\n"):  # a registered model named _policy
        with pytest.raises(DesiredStateError, match=r"import would write an invalid file; nothing was written"):
            render_file(LiveModel("_policy", {}), existing_policy, "models/_policy.yaml")
    with pytest.raises(DesiredStateError, match=r"/name: '_policy' is not allowed here"):
        render_file(LiveModel("_policy", {}), None, "models/_policy.yaml")
