"""`import --all` and the commands the plan suggests, on a registry holding names a file can and
cannot hold: every model that can have a file gets one, the others are one line each (exit 1), and
every command a plan suggests works when pasted into a shell."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

NFC, NFD = unicodedata.normalize("NFC", "caf\u00e9"), unicodedata.normalize("NFD", "caf\u00e9")
IMPORTABLE = ["-rf", "prod[1]", "it's", "a\u00a0b", "jos\u0065\u0301"]  # the last: NFD, no twin
REFUSED = ["a*b", "a\u200bb", "gitops.extra", "x" * 251, NFC, NFD, "_under"]


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args], cwd=cwd, env=_env(cwd), capture_output=True, text=True, timeout=300
    )


def _env(cwd: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "RECONCILER_"))}
    env.update(MLFLOW_TRACKING_URI=f"sqlite:///{cwd / 'mlflow.db'}", XDG_CACHE_HOME=str(cwd / "cache"))
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def registry(root: Path, names: list[str]) -> Path:
    from mlflow import MlflowClient

    uri = f"sqlite:///{root / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    for name in names:
        client.create_registered_model(name, description=f"about {name[:10]}")
    (root / "models").mkdir()
    return root


@pytest.fixture(scope="module")
def mixed(tmp_path_factory) -> Path:
    return registry(tmp_path_factory.mktemp("names"), [*IMPORTABLE, *REFUSED])


def test_import_all_writes_every_model_it_can_and_reports_the_rest_one_line_each(mixed: Path):
    """One name the schema refuses (`a*b`, a zero-width space) made `import --all` write nothing at
    all; NFC/NFD twins were both written, and then `validate` refused the pair."""
    done = run(mixed, "import", "--all")

    assert done.returncode == 1, done.stderr
    written = sorted(p.stem for p in (mixed / "models").iterdir())
    assert written == sorted(IMPORTABLE)
    errors = done.stderr.splitlines()
    assert len(errors) == len(REFUSED) + 1 and all(line.startswith("error: model ") for line in errors[:-1])
    assert errors[-1].startswith(f"error: {len(REFUSED)} registered model(s) not imported (above), 5 file(s)")
    for name, why in [("a*b", "a model file cannot hold this name"), ("gitops.extra", "'gitops.' namespace")]:
        assert any(line.startswith(f"error: model {name!r}: ") and why in line for line in errors), name
    assert sum("same file as that of" in line for line in errors) == 2  # the NFC and NFD twins, neither written
    assert run(mixed, "validate", "--offline").returncode == 0


def test_every_command_the_plan_suggests_works_and_the_others_say_why(tmp_path: Path):
    """The plan said `reconciler import -rf` (an option to click), and suggested import for names
    that import refuses (the schema's, files over 255 bytes, twins), and hid `gitops.*` models."""
    root = registry(tmp_path, [*IMPORTABLE, *REFUSED])
    plan = run(root, "plan", "--format", "json")
    assert plan.returncode == 0, plan.stderr
    notes = {n["address"]["model"]: n["message"] for n in json.loads(plan.stdout)["notes"]}
    assert set(notes) == {*IMPORTABLE, *REFUSED}  # gitops.extra too: reported, not hidden

    commands = {name: re.search(r"this writes one: (.*)$", notes[name]) for name in notes}
    assert {n for n, c in commands.items() if c} == set(IMPORTABLE)
    assert commands["-rf"].group(1) == "reconciler import -- -rf"
    script = "set -e\n" + "\n".join(c.group(1) for c in commands.values() if c)
    done = subprocess.run(["bash", "-c", script], cwd=root, env=_env(root), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert sorted(p.stem for p in (root / "models").iterdir()) == sorted(IMPORTABLE)

    for name in REFUSED:
        assert "rename" in notes[name] and "import" not in notes[name], name
    alone = [n for n in REFUSED if n not in (NFC, NFD)]
    refused = run(root, "import", "--", *alone)  # the names asked for: all or nothing, one line each
    assert refused.returncode == 1 and len(refused.stderr.splitlines()) == len(alone), refused.stderr
    after = json.loads(run(root, "plan", "--format", "json").stdout)
    assert {n["address"]["model"] for n in after["notes"]} == set(REFUSED)
    assert sorted(p.stem for p in (root / "models").iterdir()) == sorted(IMPORTABLE)


def test_an_existing_file_that_names_another_model_is_refused_and_left_as_it_was(tmp_path: Path):
    """hostile9 #8: `import alpha` over a models/alpha.yaml saying `name: beta` kept that name, wrote
    alpha's tags into it and said "wrote" (exit 0): a file that gave beta alpha's state once renamed."""
    root = registry(tmp_path, ["alpha", "beta"])
    path = root / "models" / "alpha.yaml"
    slip = "# copied from beta\nname: beta\n"
    path.write_text(slip)
    expected = (
        f"error: {Path('models') / 'alpha.yaml'}:2: the file names model 'beta', not 'alpha'; fix its `name:` "
        "or remove the file, then import again (nothing was written)"
    )
    done = run(root, "import", "alpha")
    assert done.returncode == 1 and done.stderr.splitlines() == [expected], done.stderr
    assert path.read_text() == slip and sorted(p.name for p in (root / "models").iterdir()) == ["alpha.yaml"]

    every = run(root, "import", "--all")  # the others are written; this one is refused, the same line
    assert every.returncode == 1 and every.stderr.splitlines()[0] == expected, every.stderr
    assert len(every.stderr.splitlines()) == 2 and path.read_text() == slip
    assert (root / "models" / "beta.yaml").read_text().splitlines()[1:] == ["name: beta", "description: about beta"]


@pytest.mark.parametrize(
    ("names", "bad_file", "advice"),
    [
        (["a*b"], False, "rename those models in the registry"),
        (["d15"], False, "change those values in the registry"),
        ([], True, "fix those files"),
        (["a*b", "d15"], False, "rename those models or change those values in the registry"),
        (["a*b", "d15"], True, "rename those models or change those values in the registry and fix those files"),
    ],
)
def test_the_import_all_summary_advises_what_its_lines_say(tmp_path: Path, names, bad_file, advice):
    """hostile9 #12: the summary said "rename those models in the registry" when the reasons were
    values a file cannot hold (a control character in a description): renaming would not help."""
    from mlflow import MlflowClient

    root = registry(tmp_path, ["ok", *(n for n in names if n != "d15")])
    client = MlflowClient(tracking_uri=f"sqlite:///{root / 'mlflow.db'}")
    if "d15" in names:
        client.create_registered_model("d15", description="a\x0bb")
    if bad_file:
        client.create_registered_model("kept")
        (root / "models" / "kept.yaml").write_text("name: kept\ncolour: teal\n")
    done = run(root, "import", "--all")
    lines = done.stderr.splitlines()
    assert done.returncode == 1 and len(lines) == len(names) + bad_file + 1, done.stderr
    assert lines[-1] == (
        f"error: {len(names) + bad_file} registered model(s) not imported (above), 1 file(s) written or unchanged; "
        f"{advice} as each line says, then import again, or leave them unmanaged"
    )
