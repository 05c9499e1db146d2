"""`reconciler codeowners`: the generated block, checked with an independent CODEOWNERS parser
(the `codeowners` package, a port of hmarr/codeowners) so the patterns match the files they name."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from codeowners import CodeOwners

from reconciler.files.convert import from_document
from reconciler.governance.codeowners import BEGIN, END, CodeownersError, block, render
from reconciler.governance.policy import ReviewPolicy
from reconciler.state import Origin

POLICY = ReviewPolicy(owners=("@acme/ml-platform", "lead"))


def model(file_name: str, *owners: str):
    return from_document({"name": file_name.rsplit(".", 1)[0], "owners": list(owners)}, Origin(f"models/{file_name}"))


MODELS = [
    model("iris.yaml", "ml-platform", "@acme/vision-team"),
    model("churn model.yaml", "@alice"),
    model("odd [v2].yml", "bob"),
    model("odd [v2]x.yaml", "carol"),
    model("odd xv2yx.yaml", "dave"),  # a wildcard for the bracket file would match this one
    model("nbsp\u00a0name.yaml", "erin"),  # no pattern names it exactly: the policy's owners own it
    model("ownerless.yaml"),
]


def owners_of(text: str, path: str) -> list[str]:
    return [o for _, o in CodeOwners(text).of(path)]


def test_each_file_gets_its_owners_and_new_files_the_policys():
    text = render(None, block(MODELS, POLICY))
    assert owners_of(text, "models/iris.yaml") == ["@ml-platform", "@acme/vision-team"]
    assert owners_of(text, "models/churn model.yaml") == ["@alice"]
    assert owners_of(text, "models/odd [v2].yml") == ["@bob"]
    assert owners_of(text, "models/odd [v2]x.yaml") == ["@carol"]
    assert owners_of(text, "models/odd xv2yx.yaml") == ["@dave"]
    assert owners_of(text, "models/nbsp\u00a0name.yaml") == ["@acme/ml-platform", "@lead"]
    assert owners_of(text, "models/ownerless.yaml") == ["@acme/ml-platform", "@lead"]
    assert owners_of(text, "models/brand-new.yaml") == ["@acme/ml-platform", "@lead"]
    assert owners_of(text, "models/_policy.yaml") == ["@acme/ml-platform", "@lead"]
    assert owners_of(text, "README.md") == []
    assert "/models/odd\\ \\[v2\\].yml @bob" in text and "*" not in text
    assert "# models/nbsp\\xa0name.yaml: no pattern names exactly this file" in text


def test_the_block_is_stable_and_sorted():
    lines = block(MODELS, POLICY)
    assert lines[0] == BEGIN and lines[-1] == END and lines[2] == "/models/ @acme/ml-platform @lead"
    assert lines[-2] == "/models/_policy.yaml @acme/ml-platform @lead"
    assert "/models/churn\\ model.yaml @alice" in lines
    assert block(list(reversed(MODELS)), POLICY) == lines


HOSTILE = [
    "prod[1]-model[2].yaml",
    "a[bc].yaml",
    "x]y[z.yml",
    "#hash.yaml",
    "!bang.yaml",
    "tail!#.yaml",
    "two  spaces.yaml",
    "**.yaml",  # not a valid model name, but a file name: the pattern must not be a wildcard
    "q?.yaml",
]
DECOYS = [
    "prod1-model2.yaml",
    "prodX-modelY.yaml",
    "prod-model.yaml",
    "ab.yaml",
    "ac.yaml",
    "xzy.yml",
    "hash.yaml",
    "bang.yaml",
    "tail.yaml",
    "two spaces.yaml",
    "anything.yaml",
    "qq.yaml",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_a_line_matches_exactly_its_file_and_no_file_added_later(name):
    """`[`, `]` became `*`: /models/prod*-model*.yaml also matched prodX-modelY.yaml, added later,
    giving it prod[1]-model[2]'s owners instead of the policy's."""
    text = render(None, block([model(name, "owner-of-it")], POLICY))
    assert owners_of(text, f"models/{name}") == ["@owner-of-it"]
    for other in [*DECOYS, *(h for h in HOSTILE if h != name)]:
        assert owners_of(text, f"models/{other}") == ["@acme/ml-platform", "@lead"], other


def test_without_policy_owners_there_is_no_default_line():
    lines = block([model("a.yaml", "x")], ReviewPolicy())
    assert lines[2:-1] == ["/models/a.yaml @x"]
    assert block([model("b.yaml")], ReviewPolicy())[2:-1] == ["/models/b.yaml"]  # no owners: nobody


def test_other_lines_are_kept_and_the_block_replaced_in_place():
    existing = (
        "# team rules\n* @acme/all\n\n# BEGIN reconciler (generated)\n/models/old.yaml @x\n# END reconciler\n"
        "/docs/ @docs\n"
    )
    text = render(existing, block(MODELS[:1], POLICY))
    assert text.startswith("# team rules\n* @acme/all\n\n# BEGIN reconciler (generated)\n")
    assert text.endswith("# END reconciler\n/docs/ @docs\n") and "old.yaml" not in text
    assert render(text, block(MODELS[:1], POLICY)) == text


def test_a_file_without_the_block_gets_it_appended():
    text = render("* @acme/all", block(MODELS[:1], POLICY))
    assert text.startswith("* @acme/all\n\n# BEGIN") and text.endswith("# END reconciler\n")
    assert owners_of(text, "models/iris.yaml") == ["@ml-platform", "@acme/vision-team"]
    assert owners_of(text, "src/x.py") == ["@acme/all"]


@pytest.mark.parametrize(
    "existing",
    [f"{BEGIN}\n/x @a\n", f"/x @a\n{END}\n", f"{END}\n{BEGIN}\n", f"{BEGIN}\n{END}\n{BEGIN}\n{END}\n"],
)
def test_a_damaged_block_is_refused(existing):
    with pytest.raises(CodeownersError, match=r"generated block is damaged.*run 'reconciler codeowners'"):
        render(existing, block([], POLICY))


def test_an_owner_that_would_split_a_line_is_refused():
    bad = from_document({"name": "m", "owners": ["alice\n/ @mallory"]}, Origin("models/m.yaml"))
    with pytest.raises(CodeownersError, match="cannot go into CODEOWNERS"):
        block([bad], POLICY)


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "reconciler", "codeowners", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def repo(tmp_path: Path) -> Path:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "_policy.yaml").write_text('owners: ["@acme/ml-platform"]\n')
    (tmp_path / "models" / "churn.yaml").write_text("name: churn\nowners: [alice]\n")
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "CODEOWNERS").write_text("* @acme/all\n")
    return tmp_path


def test_the_command_writes_checks_and_says_how_to_fix(tmp_path):
    root = repo(tmp_path)
    codeowners = root / ".github" / "CODEOWNERS"
    stale = cli(root, "--check")
    assert stale.returncode == 1 and codeowners.read_text() == "* @acme/all\n"
    assert stale.stderr.strip() == (
        "error: .github/CODEOWNERS is out of date for the owners in models; run 'reconciler codeowners' to update it"
    )
    assert cli(root).returncode == 0
    assert owners_of(codeowners.read_text(), "models/churn.yaml") == ["@alice"]
    started = time.perf_counter()
    done = cli(root, "--check")
    elapsed = time.perf_counter() - started
    assert done.returncode == 0 and "is up to date" in done.stdout
    assert elapsed < 10, f"codeowners --check took {elapsed:.1f} s"  # generous: shared 2-core machine
    (root / "models" / "churn.yaml").write_text("name: churn\nowners: [alice, bob]\n")
    assert cli(root, "--check").returncode == 1
    assert not [p for p in (root / ".github").iterdir() if p.name != "CODEOWNERS"]  # no temporary file left


def test_a_bad_model_file_means_nothing_is_written(tmp_path):
    root = repo(tmp_path)
    (root / "models" / "churn.yaml").write_text("name: churn\nowners: ['not a login']\n")
    done = cli(root)
    assert done.returncode == 1 and "/owners/0" in done.stderr
    assert (root / ".github" / "CODEOWNERS").read_text() == "* @acme/all\n"


def test_the_file_is_created_with_its_directory(tmp_path):
    root = repo(tmp_path)
    (root / ".github" / "CODEOWNERS").unlink()
    (root / ".github").rmdir()
    assert cli(root).returncode == 0
    assert (root / ".github" / "CODEOWNERS").read_text().startswith(BEGIN)
    outside = cli(root, "--models-dir", str(tmp_path.parent))
    assert outside.returncode == 1


def test_the_file_keeps_its_mode_and_a_link_or_a_fifo_is_refused_untouched(tmp_path):
    """It was replaced by a new file of mode 0600; a link was replaced by a file (its target never
    written); a FIFO hung the read."""
    import os
    import stat

    root = repo(tmp_path)
    codeowners = root / ".github" / "CODEOWNERS"
    codeowners.chmod(0o664)
    assert cli(root).returncode == 0
    assert stat.S_IMODE(codeowners.stat().st_mode) == 0o664 and BEGIN in codeowners.read_text()

    shared = root / "CODEOWNERS.shared"
    codeowners.rename(shared)
    codeowners.symlink_to(shared)
    (root / "models" / "churn.yaml").write_text("name: churn\nowners: [alice, bob]\n")
    done = cli(root)
    assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("error: .github/CODEOWNERS: is a symbolic link (to "), done.stderr
    assert codeowners.is_symlink() and "@bob" not in shared.read_text()

    codeowners.unlink()
    os.mkfifo(codeowners)
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "codeowners"], cwd=root, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1 and "is a named pipe (FIFO), not a regular file" in done.stderr, done.stderr
    assert stat.S_ISFIFO(os.lstat(codeowners).st_mode)


def test_a_crlf_file_keeps_its_line_endings_and_a_mixed_one_is_refused_untouched(tmp_path):
    """hostile9 #6: a CRLF CODEOWNERS was rewritten with LF, the lines it keeps included (a
    whole-file diff). The rule is propose's and import's: one ending kept, mixed endings refused."""
    root = repo(tmp_path)
    codeowners = root / ".github" / "CODEOWNERS"
    kept = b"* @everyone\r\n"
    codeowners.write_bytes(kept + f"{BEGIN}\r\n/models/old.yaml @old\r\n{END}\r\n/z/ @z\r\n".encode())
    done = cli(root)
    assert done.returncode == 0, done.stderr
    after = codeowners.read_bytes()
    assert after.count(b"\r\n") == after.count(b"\n") and after.startswith(kept) and after.endswith(b"\r\n/z/ @z\r\n")
    assert b"old.yaml" not in after and owners_of(after.decode(), "models/churn.yaml") == ["@alice"]
    assert "is up to date" in cli(root, "--check").stdout and codeowners.read_bytes() == after

    mixed = kept + b"/docs/ @docs\n/z/ @z\r\n"
    codeowners.write_bytes(mixed)
    for args in ((), ("--check",)):
        done = cli(root, *args)
        assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
        assert done.stderr.startswith(
            "error: .github/CODEOWNERS:2: the file mixes CRLF and LF line endings; give every line the same ending"
        ), done.stderr
        assert codeowners.read_bytes() == mixed
