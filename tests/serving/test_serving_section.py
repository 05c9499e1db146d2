"""The `serving:` section: schema-checked with file:line errors, resolved to the pinned version from
the file alone (reconciler/serving/resolve.py)."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from reconciler.errors import DesiredStateError, ValidationErrors
from reconciler.files import schemagen as schema
from reconciler.serving import RuntimeImage, Served, load_served, served_models

DIGEST = "sha256:" + "ab" * 32
BASE = """\
name: iris
aliases:
  champion: 3
  challenger: 4
versions:
  3:
    stage: Production
  4:
    stage: Staging
"""


def write(tmp_path: Path, serving: str, base: str = BASE, name: str = "iris") -> Path:
    models = tmp_path / "models"
    models.mkdir(exist_ok=True)
    path = models / f"{name}.yaml"
    path.write_text(base.replace("name: iris", f"name: {name}") + textwrap.dedent(serving))
    return path


def test_the_alias_resolves_to_the_files_version(tmp_path):
    path = write(
        tmp_path,
        f"""\
        serving:
          alias: champion
          replicas: 3
          resources: {{cpu: 250m, memory: 512Mi}}
          latency_budget_ms: 200
          ingress_namespaces: [apps, batch]
          image: {{ref: "ghcr.io/acme/serve@{DIGEST}", packages: images/serve.txt}}
        """,
    )
    got = load_served(path)
    assert got == Served(
        model="iris",
        version=3,
        source=f"{path}:10",
        follows="alias champion",
        replicas=3,
        cpu="250m",
        memory="512Mi",
        latency_budget_ms=200,
        ingress_namespaces=("apps", "batch"),
        image=RuntimeImage(f"ghcr.io/acme/serve@{DIGEST}", "images/serve.txt"),
    )
    assert got.model_uri == "models:/iris/3"


def test_moving_the_alias_moves_the_pin(tmp_path):
    path = write(tmp_path, "serving: {alias: champion}\n", BASE.replace("champion: 3", "champion: 4"))
    got = load_served(path)
    assert got is not None and got.version == 4 and got.replicas == 2 and got.cpu == "500m"


def test_a_stage_resolves_to_its_one_holder(tmp_path):
    got = load_served(write(tmp_path, "serving: {stage: Staging}\n"))
    assert got is not None and (got.version, got.follows) == (4, "stage Staging")


def test_a_file_without_serving_serves_nothing(tmp_path):
    assert load_served(write(tmp_path, "")) is None


@pytest.mark.parametrize(
    ("serving", "line", "says"),
    [
        ("serving:\n  replicas: 2\n  alias: nobody\n", 12, "serving.alias 'nobody' is not set in this file's aliases"),
        ("serving:\n  stage: Archived\n", 11, "serving.stage 'Archived': no version of this file is in it"),
    ],
)
def test_what_the_file_does_not_set_is_one_line_naming_file_and_line(tmp_path, serving, line, says):
    path = write(tmp_path, serving)
    with pytest.raises(DesiredStateError) as caught:
        load_served(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:{line}: ") and says in message and "\n" not in message


def test_two_holders_of_the_stage_are_refused(tmp_path):
    base = BASE.replace("stage: Staging", "stage: Production")
    path = write(tmp_path, "serving: {stage: Production}\n", base)
    with pytest.raises(DesiredStateError, match=r"versions 3, 4 of this file is in it; put exactly one"):
        load_served(path)


@pytest.mark.parametrize(
    ("serving", "pointer"),
    [
        ("serving: {alias: champion, stage: Production}\n", "/serving"),
        ("serving: {}\n", "/serving"),
        ("serving: {alias: champion, replicas: 0}\n", "/serving/replicas"),
        ("serving: {alias: champion, resources: {cpu: lots}}\n", "/serving/resources/cpu"),
        ("serving: {alias: champion, ingress_namespaces: [Bad_NS]}\n", "/serving/ingress_namespaces/0"),
        ("serving: {alias: champion, image: {ref: 'ghcr.io/a/b:latest', packages: p.txt}}\n", "/serving/image/ref"),
        (f"serving: {{alias: champion, image: {{ref: 'a@{DIGEST}', packages: ../x}}}}\n", "/serving/image/packages"),
        ("serving: {alias: champion, latency: 3}\n", "/serving"),
        ("serving: {alias: latest}\n", "/serving/alias"),
    ],
)
def test_a_malformed_section_is_a_schema_error_with_file_line_and_pointer(tmp_path, serving, pointer):
    path = write(tmp_path, serving)
    with pytest.raises(DesiredStateError) as caught:
        load_served(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:1") and f": {pointer}: " in message, message
    assert "\n" not in message and "see schemas/model.schema.json" in message


def test_every_bad_file_is_reported(tmp_path):
    write(tmp_path, "serving: {alias: gone}\n", name="a")
    write(tmp_path, "serving: {stage: None}\n", name="b")
    write(tmp_path, "serving: {alias: challenger}\n", name="c")
    with pytest.raises(ValidationErrors) as caught:
        served_models(tmp_path / "models")
    assert [str(e).split(":")[0] for e in caught.value.errors] == [
        str(tmp_path / "models" / "a.yaml"),
        str(tmp_path / "models" / "b.yaml"),
    ]


def test_served_models_lists_the_serving_files_only(tmp_path):
    write(tmp_path, "serving: {alias: challenger}\n", name="c")
    write(tmp_path, "", name="d")
    assert [(s.model, s.version) for s in served_models(tmp_path / "models")] == [("c", 4)]


def test_the_schema_carries_the_section():
    assert schema.build()["properties"]["serving"]["oneOf"] == [{"required": ["alias"]}, {"required": ["stage"]}]


def test_the_resolver_imports_nothing_from_mlflow(tmp_path):
    import subprocess

    code = (
        "import sys, reconciler.serving, reconciler.serving.local, reconciler.serving.commands; "
        "sys.exit(any(m.split('.')[0] == 'mlflow' for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2]).returncode == 0


@pytest.mark.parametrize(
    ("serving", "says"),
    [
        ("serving: {alias: nosuch}\n", ":10: serving.alias 'nosuch' is not set in this file's aliases"),
        ("serving: {stage: Archived}\n", ":10: serving.stage 'Archived': no version of this file is in it"),
    ],
)
def test_validate_refuses_what_the_stack_could_not_build(tmp_path, serving, says):
    """hostile6 #5: only the Pulumi program resolved the section; validate (pre-commit, the PR
    check) and plan said valid, and the merge broke `infra.yml`'s up."""
    import subprocess

    path = write(tmp_path, serving)
    before = path.read_bytes()
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "validate", "--offline", "--models-dir", str(path.parent)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"error: {path}{says}"), line
    assert path.read_bytes() == before
