"""Bad files: each gives one clear line naming the file (and line or JSON pointer) and what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import DesiredStateError, ValidationErrors
from reconciler.files.desired import load_models

GOOD = "name: churn\nversions:\n  1:\n    stage: Production\n"


def load_one(tmp_path: Path, text: str, name: str = "churn.yaml") -> str:
    (tmp_path / name).write_text(text)
    with pytest.raises(ValidationErrors) as info:
        load_models(tmp_path)
    (error,) = info.value.errors
    assert "\n" not in str(error)
    return str(error)


def test_a_good_file_loads(tmp_path):
    (tmp_path / "churn.yaml").write_text(GOOD)
    (model,) = load_models(tmp_path)
    assert model.name == "churn" and model.versions[1].stage.value == "Production"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: churn\nversions: [1, 2\n", "churn.yaml:3: invalid YAML"),
        ("name: churn\nversions:\n  1:\n    stage: Prod\n", "churn.yaml:4: /versions/1/stage: 'Prod' is not one of"),
        ("name: churn\ndescripton: typo\n", "churn.yaml:2: /: unknown key 'descripton'; check the spelling"),
        (
            "name: churn\naliases:\n  champion: 1\n  champion: 2\n",
            "churn.yaml:4: duplicate key 'champion' (also on line 3); keep one",
        ),
        ("name: churn\ntags:\n  accuracy: 0.93\n", "churn.yaml:3: /tags/accuracy: 0.93 must be a string; quote it"),
        ("name: churn\ntags: !!python/object/apply:os.system [echo hi]\n", "churn.yaml:2: YAML tag"),
        ("name: other\n", "churn.yaml:1: name 'other' differs from the file name"),
        ("name: churn\naliases:\n  latest: 1\n", "/aliases: 'latest' is not allowed here. Alias: letters"),
        ("name: churn\ntags:\n  gitops.audit: x\n", "/tags: 'gitops.audit' is not allowed here. Tag key:"),
        ("name: churn\ntags:\n  'team|owner': x\n", "/tags: 'team|owner' is not allowed here. Tag key:"),
        ("- just\n- a list\n", "churn.yaml:1: expected a mapping"),
        (
            "name: churn\npermissions:\n  bob: NO_PERMISSIONS\n",
            "churn.yaml:3: /permissions/bob: 'NO_PERMISSIONS' is not one of 'READ', 'USE', 'EDIT', 'MANAGE', 'DENY'",
        ),
        ("name: churn\npermissions: {bob: read}\n", "churn.yaml:2: /permissions/bob: 'read' is not one of"),
        ("name: churn\npermissions: [bob]\n", "churn.yaml:2: /permissions: ['bob'] is not of type 'object'"),
        ("name: churn\npermissions: {'': READ}\n", "churn.yaml:2: /permissions: '' should be non-empty"),
        ("name: churn\npolicy: {prune: {permissions: 'yes'}}\n", "/policy/prune/permissions: 'yes' is not of type"),
        (
            "name: churn\nversions:\n  1: {stage: Production}\n  2: {stage: Production}\n"
            "policy: {exclusive_stages: [Production]}\n",
            "churn.yaml:4: versions [1, 2] are all Production, but policy.exclusive_stages says one at a time",
        ),
        # hostile6 #1: a reviewed file goes into git; what `mask` would hide must not be in it.
        (
            "name: churn\nversions:\n  1:\n    tags:\n      ci: https://ci:ghp_abcdefghijklmnopqrstuvwxyz0123456789@h/x\n",
            "churn.yaml:5: /versions/1/tags/ci: holds what looks like a credential (https://ci:***@h/x); a model",
        ),
        ("name: churn\ndescription: 'db: password=hunter22'\n", "churn.yaml:2: /description: holds what looks like"),
    ],
)
def test_bad_file_is_one_clear_line(tmp_path, text, expected):
    message = load_one(tmp_path, text)
    assert expected in message, message
    assert message.startswith(str(tmp_path / "churn.yaml"))


def test_python_object_tag_is_never_constructed(tmp_path):
    marker = tmp_path / "pwned"
    text = f"name: churn\ndescription: !!python/object/apply:os.system ['touch {marker}']\n"
    assert "is not allowed" in load_one(tmp_path, text)
    assert not marker.exists()


def test_huge_file(tmp_path):
    assert "larger than 1024 KiB" in load_one(tmp_path, "name: churn\ndescription: " + "x" * (1024 * 1024) + "\n")


def test_deep_nesting(tmp_path):
    assert "nested" in load_one(tmp_path, "name: churn\ntags: " + "[" * 5000 + "]" * 5000 + "\n")


def test_alias_bomb(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 12)]
    message = load_one(tmp_path, "name: churn\n" + "\n".join(lines) + "\n")
    assert "more than 200000 nodes" in message


def test_duplicate_model_names_across_files(tmp_path):
    (tmp_path / "churn.yaml").write_text(GOOD)
    (tmp_path / "churn.yml").write_text(GOOD)
    with pytest.raises(ValidationErrors) as info:
        load_models(tmp_path)
    assert "is also declared in" in str(info.value) and "keep one file per model" in str(info.value)


def test_every_bad_file_is_reported_not_just_the_first(tmp_path):
    (tmp_path / "a.yaml").write_text("name: a\nbogus: 1\n")
    (tmp_path / "b.yaml").write_text("name: b\nversions:\n  1: {stage: Live}\n")
    (tmp_path / "c.yaml").write_text("name: c\n")
    with pytest.raises(ValidationErrors) as info:
        load_models(tmp_path)
    assert [Path(str(e).split(":")[0]).name for e in info.value.errors] == ["a.yaml", "b.yaml"]


def test_missing_models_dir(tmp_path):
    with pytest.raises(DesiredStateError, match="no such directory; create it or pass --models-dir"):
        load_models(tmp_path / "nope")


def test_every_independent_problem_of_a_file_is_one_line(tmp_path):
    """hostile6 #4: only the first problem per file was reported; fix, re-run, get the next one."""
    (tmp_path / "iris.yaml").write_text(
        "name: iris\nbogus: 1\naliases: {champion: 1}\nversions:\n  1: {stage: Production}\n"
        "  2: {stage: Production}\npolicy: {exclusive_stages: [Production]}\n"
        'serving: {alias: champion, replicas: 0, latency_budget_ms: -5, ingress_namespaces: ["A_B", "../x"]}\n'
    )
    with pytest.raises(ValidationErrors) as info:
        load_models(tmp_path)
    lines = [str(e) for e in info.value.errors]
    assert [line.split(": ")[1] for line in lines] == [
        "/",
        "/serving/ingress_namespaces/0",
        "/serving/ingress_namespaces/1",
        "/serving/latency_budget_ms",
        "/serving/replicas",
    ], lines
    assert lines[0].startswith(f"{tmp_path / 'iris.yaml'}:2: /: unknown key 'bogus'")
    # With the schema satisfied, the semantic checks and the serving section are reported together.
    (tmp_path / "iris.yaml").write_text(
        "name: iris\naliases: {champion: 1}\nversions:\n  1: {stage: Production}\n"
        "  2: {stage: Production}\npolicy: {exclusive_stages: [Production]}\nserving: {alias: nosuch}\n"
    )
    with pytest.raises(ValidationErrors) as info:
        load_models(tmp_path)
    lines = [str(e) for e in info.value.errors]
    assert len(lines) == 2 and "are all Production" in lines[0] and "serving.alias 'nosuch'" in lines[1], lines
    assert all("\n" not in line for line in lines)


def test_a_file_that_does_not_parse_is_its_first_syntax_problem(tmp_path):
    """A duplicate key stops the reading: no schema check can follow (README says so)."""
    message = load_one(tmp_path, 'name: churn\ntags: {a: "1"}\nowners: 5\ntags: {b: "2"}\n')
    assert "churn.yaml:4: duplicate key 'tags' (also on line 2)" in message


def test_every_unknown_key_of_a_place_is_named_in_its_one_line(tmp_path):
    """The unknown-key line named only the first of several: fixing it showed the next, one run each."""
    (tmp_path / "churn.yaml").write_text(
        "name: churn\ndescripton: typo\nownrs: [a]\nversions:\n  1: {stage: Production, tag: x, descripton: y}\n"
    )
    with pytest.raises(ValidationErrors) as info:
        load_models(tmp_path)
    source, HINT = tmp_path / "churn.yaml", "see schemas/model.schema.json"
    assert [str(e) for e in info.value.errors] == [
        f"{source}:2: /: unknown keys 'descripton', 'ownrs'; check the spelling; {HINT}",
        f"{source}:5: /versions/1: unknown keys 'tag', 'descripton'; check the spelling; {HINT}",
    ]
    many = "".join(f"k{i}: 1\n" for i in range(12))
    message = load_one(tmp_path, f"name: churn\n{many}")
    assert message == f"{source}:2: /: unknown keys 'k0', 'k1', 'k2', 'k3', 'k4' and 7 more; check the spelling; {HINT}"
