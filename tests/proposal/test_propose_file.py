"""`reconciler propose MODEL VERSION` without --open-pr: the file edit (round trip, validated,
atomic), and every bad input as one line with nothing written (file or registry)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.files.desired import load_file
from tests.proposal.registry import IRIS_FILE, env, seed, train


def run(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "reconciler", "propose", *args],
        cwd=root,
        env=env(root),
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    root = tmp_path_factory.mktemp("propose")
    return root, seed(root)


def test_adds_the_version_as_the_rule_says_keeping_comments_order_and_quoting(repo):
    root, c = repo
    v = train(
        c,
        "iris",
        {"accuracy": 0.95, "f1_macro": 0.94},
        tags={"lineage.git_commit": "abc123", "mlflow.note.content": "C=10 on iris-v1"},
    )
    done = run(root, "iris", str(v))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"wrote models/iris.yaml: version {v} gets alias challenger (was v1)"
    text = (root / "models" / "iris.yaml").read_text()
    expected = IRIS_FILE.replace("  challenger: 1\n", f"  challenger: {v}\n").replace(
        '    description: "baseline"\n',
        f'    description: "baseline"\n  {v}:\n    description: C=10 on iris-v1\n'
        "    tags:\n      dataset: iris-v1\n      lineage.git_commit: abc123\n",
    )
    assert text == expected  # every comment, the key order and 'vision' / "baseline" quoting kept
    model = load_file(root / "models" / "iris.yaml")
    assert model.aliases == {"champion": 1, "challenger": v}
    # Re-running changes nothing.
    again = run(root, "iris", str(v))
    assert again.returncode == 0 and again.stdout.startswith("unchanged models/iris.yaml")
    assert (root / "models" / "iris.yaml").read_text() == text
    # The registry was not touched: the alias is where it was.
    assert c.get_registered_model("iris").aliases["challenger"] == 1


def _refused(root: Path, args: list[str], message: str) -> None:
    before = {p: p.read_bytes() for p in (root / "models").iterdir()}
    done = run(root, *args)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr
    assert {p: p.read_bytes() for p in (root / "models").iterdir()} == before


def test_bad_input_is_one_line_and_writes_nothing(repo):
    root, c = repo
    _refused(root, ["iris", "99"], "model 'iris' has no version 99 in")
    failed = train(c, "iris", {"accuracy": 0.99}, fail=True)
    _refused(root, ["iris", str(failed)], "its training run")
    _refused(root, ["iris", str(failed)], "is FAILED, not FINISHED")
    train(c, "orphan", {"accuracy": 0.5})
    _refused(root, ["orphan", "1"], "models/orphan.yaml: model 'orphan' has no file")
    text = (root / "models" / "iris.yaml").read_text()
    (root / "models" / "iris.yaml").write_text(text.replace("alias: challenger ", "alias: champion "))
    try:
        _refused(root, ["iris", "1"], "/propose/alias: 'champion' is a protected alias")
    finally:
        (root / "models" / "iris.yaml").write_text(text)
    (root / "models" / "iris.yaml").write_text(text.replace("  alias: challenger", "  alias: latest"))
    try:
        _refused(root, ["iris", "1"], "/propose/alias")
    finally:
        (root / "models" / "iris.yaml").write_text(text)
    assert c.get_registered_model("iris").aliases == {"champion": 1, "challenger": 1}


def test_a_file_without_a_propose_rule_is_refused(repo, tmp_path):
    root, _ = repo
    text = (root / "models" / "iris.yaml").read_text()
    (root / "models" / "iris.yaml").write_text(text.split("propose:")[0])
    try:
        _refused(root, ["iris", "1"], "has no `propose:` section")
    finally:
        (root / "models" / "iris.yaml").write_text(text)


def test_a_credential_in_a_run_tag_is_refused_naming_the_tag(repo):
    """hostile6 #1: a CI URL with a token in it would go into the file, git and the pull request."""
    root, c = repo
    url = "https://ci:ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/acme/r/actions/runs/1?token=supersecret"
    v = train(c, "iris", {"accuracy": 0.95, "f1_macro": 0.94}, tags={"lineage.git_commit": url})
    done = run(root, "iris", str(v))
    assert done.returncode == 1, done.stdout + done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert "the run's tag 'lineage.git_commit' holds what looks like a credential" in line, line
    assert "ghp_" not in line and "supersecret" not in line
    assert "ghp_" not in (root / "models" / "iris.yaml").read_text()
    v = train(c, "iris", {"accuracy": 0.95, "f1_macro": 0.94}, tags={"mlflow.note.content": "see password=hunter22"})
    _refused(root, ["iris", str(v)], "the run's tag 'mlflow.note.content' holds what looks like a credential")


def test_a_version_whose_run_is_deleted_is_refused_by_gates_propose_validate_and_shown(repo):
    """hostile6 #2: a run in the trash passed every check, and show said FINISHED."""
    root, c = repo
    v = train(c, "iris", {"accuracy": 0.99, "f1_macro": 0.99})
    rid = c.get_model_version("iris", str(v)).run_id
    c.delete_run(rid)
    _refused(root, ["iris", str(v)], f"its training run {rid} is deleted (in the tracking server's trash)")
    e = env(root)
    gates = subprocess.run(
        [sys.executable, "-m", "reconciler", "gates", "iris", "--run", rid],
        cwd=root, env=e, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert gates.returncode == 1 and f"run {rid} is deleted" in gates.stderr, gates.stdout + gates.stderr
    show = subprocess.run(
        [sys.executable, "-m", "reconciler", "show", "iris", str(v)],
        cwd=root, env=e, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert f"run: {rid} (FINISHED, deleted: in the tracking server's trash)" in show.stdout, show.stdout + show.stderr
    path = root / "models" / "iris.yaml"
    text = path.read_text()
    path.write_text(text.replace("  champion: 1 ", f"  champion: {v} "))
    try:
        done = subprocess.run(
            [sys.executable, "-m", "reconciler", "validate"],
            cwd=root, env=e, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    finally:
        path.write_text(text)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"models/iris.yaml:10: /aliases/champion: model 'iris' version {v}: its training run {rid} is deleted" in (
        done.stderr
    ), done.stderr


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("a b; touch PWNED", "run `reconciler import 'a b; touch PWNED'` and add a `propose:` section"),
        ("$(touch PWNED2)", "run `reconciler import '$(touch PWNED2)'` and add"),
        ("-rf", "run `reconciler import -- -rf` and add"),
        ("a\nb", "model 'a\\nb': a model file cannot hold this name"),
        ("\x1b[2Jevil", "model '\\x1b[2Jevil': a model file cannot hold this name"),
        ("../etc/passwd", "model '../etc/passwd': a model file cannot hold this name"),
    ],
)
def test_a_model_without_a_file_gets_a_command_quoted_for_a_shell(repo, name, says):
    """hostile6 #10: the suggested command pasted the raw name (copy-pasting it ran `touch PWNED`),
    a newline split the error, an escape sequence made it name another model."""
    root, c = repo
    if "/" not in name:  # MLflow refuses '/' itself; the file is looked for before the registry is read
        c.create_registered_model(name)
    _refused(root, ["--", name, "1"], says)
    assert not (root / "PWNED").exists()
    gates = subprocess.run(
        [sys.executable, "-m", "reconciler", "gates", "--run", "abc", "--", name],
        cwd=root, env=env(root), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    (line,) = gates.stderr.strip().splitlines()
    assert gates.returncode == 1 and says.split(" and add")[0] in line, line
    if "import" in says:
        assert "so nothing says which gates its runs face" in line and "`propose:`" not in line, line


def test_gates_without_the_models_directory_says_so(repo, tmp_path):
    """hostile6 #14: it said the model "has no file"."""
    root, _ = repo
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "gates", "iris", "--run", "abc", "--models-dir", str(tmp_path / "no")],
        cwd=root, env=env(root), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 1 and f"{tmp_path / 'no'}: no such directory" in done.stderr, done.stderr


def test_a_run_tag_a_file_may_not_hold_is_named_on_the_run(repo):
    """hostile6 #13: an ESC in lineage.git_commit was blamed on a line of the clean file on disk."""
    root, c = repo
    v = train(c, "iris", {"accuracy": 0.95, "f1_macro": 0.94}, tags={"lineage.git_commit": "abc\x1b[31m"})
    _refused(root, ["iris", str(v)], f"version {v}: the run's tag 'lineage.git_commit' holds control character U+001B")


def test_a_crlf_file_keeps_its_line_endings_and_mixed_ones_are_refused(repo):
    """hostile6 #12: comment lines kept CR, the rest became LF: a whole-file diff around one alias."""
    root, c = repo
    path = root / "models" / "iris.yaml"
    text = path.read_text()
    v = train(c, "iris", {"accuracy": 0.95, "f1_macro": 0.94})
    try:
        path.write_bytes(text.replace("\n", "\r\n").encode())
        done = run(root, "iris", str(v))
        assert done.returncode == 0, done.stderr
        after = path.read_bytes().decode()
        assert after.count("\r\n") == after.count("\n"), after
        lf = after.replace("\r\n", "\n")
        assert lf.splitlines()[:9] == text.splitlines()[:9] and f"  challenger: {v}\n" in lf
        mixed = text.replace("\n", "\r\n", 3)
        path.write_bytes(mixed.encode())
        _refused(root, ["iris", str(v)], "models/iris.yaml:4: the file mixes CRLF and LF line endings")
    finally:
        path.write_text(text)


def test_a_comment_on_the_last_versions_line_stays_on_that_line(repo):
    """hostile6 #6: the comment written after v1's last value moved to the line propose added."""
    root, c = repo
    path = root / "models" / "iris.yaml"
    text = path.read_text()
    commented = text.replace('    description: "baseline"\n', '    description: "baseline"   # about v1 only\n')
    assert commented != text
    v = train(c, "iris", {"accuracy": 0.95, "f1_macro": 0.94}, tags={"lineage.git_commit": "c0ffee"})
    try:
        path.write_text(commented)
        done = run(root, "iris", str(v))
        assert done.returncode == 0, done.stderr
        after = path.read_text()
    finally:
        path.write_text(text)
    assert '    description: "baseline"   # about v1 only\n' in after, after
    assert after.count("# about v1 only") == 1
    assert "      lineage.git_commit: c0ffee\n\nreview:" in after, after  # the blank line before review stays


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_carriage_return_in_a_copied_run_value_reads_back_the_same(repo, newline):
    """hostile9 #4, propose's half: a run's description or tag with CRLF was written as a literal
    block, which reads CRLF as a line break: the file asked for another value than the run's."""
    root, c = repo
    path = root / "models" / "iris.yaml"
    text = path.read_text()
    note, commit = "C=10\r\non iris-v1\rlast", "c0ffee\r\n"
    tags = {"mlflow.note.content": note, "lineage.git_commit": commit}
    v = train(c, "iris", {"accuracy": 0.95, "f1_macro": 0.94}, tags=tags)
    try:
        path.write_bytes(text.replace("\n", newline).encode())
        done = run(root, "iris", str(v))
        assert done.returncode == 0, done.stderr
        version = load_file(path).versions[v].values
    finally:
        path.write_text(text)
    assert version["description"] == note.strip()
    assert version["tags"]["lineage.git_commit"] == commit and version["tags"]["dataset"] == "iris-v1"


def test_a_file_that_names_another_model_is_refused(repo):
    """hostile9 #8, propose's half: `propose iris V` over a models/iris.yaml saying `name: churn`
    added iris's version to it under churn's name (a file validate then refuses)."""
    root, c = repo
    path = root / "models" / "iris.yaml"
    text = path.read_text()
    v = train(c, "iris", {"accuracy": 0.95, "f1_macro": 0.94})
    try:
        path.write_text(text.replace("name: iris\n", "name: churn\n"))
        _refused(
            root,
            ["iris", str(v)],
            "error: models/iris.yaml:4: the file names model 'churn', not 'iris'; fix its `name:` or remove the file",
        )
    finally:
        path.write_text(text)
