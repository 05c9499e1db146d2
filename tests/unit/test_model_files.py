"""Which files in models/ are desired state (suffix case, reserved names, case-insensitive clashes,
links and other entries that are not regular files)."""

from __future__ import annotations

import os
import unicodedata

import pytest

from reconciler.errors import DesiredStateError, ValidationErrors
from reconciler.files.desired import load_file, load_models
from reconciler.files.modelfiles import LINK_FIX, model_files, model_path
from reconciler.github.files import model_paths
from reconciler.governance.policy import load_policy, load_repository_policy
from reconciler.governance.repository import load_checked
from reconciler.governance.rules import model_file_paths


def write(directory, name, model=None):
    (directory / name).write_text(f"name: {model or name.rsplit('.', 1)[0]}\n")


def test_yaml_and_yml_in_any_case(tmp_path):
    for name in ("a.yaml", "b.yml", "c.YAML", "d.Yml", "e.json", "f.yaml.bak", ".g.yaml.swp"):
        write(tmp_path, name)
    assert [p.name for p in model_files(tmp_path)] == ["a.yaml", "b.yml", "c.YAML", "d.Yml"]
    assert [m.name for m in load_models(tmp_path)] == ["a", "b", "c", "d"]


def test_files_starting_with_underscore_are_reserved(tmp_path):
    write(tmp_path, "a.yaml")
    (tmp_path / "_policy.yaml").write_text("require_owners: true\n")
    assert [p.name for p in model_files(tmp_path)] == ["a.yaml"]


def test_a_directory_named_like_a_model_file_is_refused_not_skipped(tmp_path):
    (tmp_path / "x.yaml").mkdir()
    with pytest.raises(ValidationErrors) as e:
        model_files(tmp_path)
    assert [str(x) for x in e.value.errors] == [
        f"{tmp_path / 'x.yaml'}: a directory named like a model file; models are files: rename or remove it"
    ]


def refused(models_dir) -> list[str]:
    with pytest.raises(ValidationErrors) as e:
        load_checked(models_dir)
    return [str(x) for x in e.value.errors]


def test_a_symbolic_link_is_refused_and_its_target_never_read(tmp_path):
    """models/churn.yaml -> ../config/churn.yaml let a pull request change churn through config/
    alone; an absolute link made the check quote a runner's file (its keys) in a public comment."""
    models, config = tmp_path / "models", tmp_path / "config"
    models.mkdir()
    config.mkdir()
    (config / "churn.yaml").write_text("name: churn\n")
    (config / "secret").write_text("AKIA_SECRET_KEY: x\n")
    (models / "churn.yaml").symlink_to("../config/churn.yaml")
    (models / "x.yaml").symlink_to(config / "secret")
    assert refused(models) == [f"{models / name}: a symbolic link; {LINK_FIX}" for name in ("churn.yaml", "x.yaml")]
    assert "AKIA" not in LINK_FIX


@pytest.mark.parametrize("name", ["gone.yaml", "README.md", "sub"])
def test_every_symbolic_link_is_refused_dangling_or_not_whatever_its_name(tmp_path, name):
    write(tmp_path, "a.yaml")
    (tmp_path / name).symlink_to(tmp_path / "nowhere")
    assert refused(tmp_path) == [f"{tmp_path / name}: a symbolic link; {LINK_FIX}"]


def test_a_linked_policy_file_is_refused_once(tmp_path):
    write(tmp_path, "a.yaml")
    (tmp_path.parent / "loose.yaml").write_text("owners: [anyone]\n")
    (tmp_path / "_policy.yaml").symlink_to(tmp_path.parent / "loose.yaml")
    assert refused(tmp_path) == [f"{tmp_path / '_policy.yaml'}: a symbolic link; {LINK_FIX}"]
    with pytest.raises(DesiredStateError, match="a symbolic link"):
        load_repository_policy(tmp_path)


def test_a_linked_models_directory_is_refused(tmp_path):
    (tmp_path / "config").mkdir()
    write(tmp_path / "config", "a.yaml")
    (tmp_path / "models").symlink_to("config")
    assert refused(tmp_path / "models") == [f"{tmp_path / 'models'}: a symbolic link; {LINK_FIX}"]


def test_a_fifo_named_like_a_model_file_is_refused_without_blocking(tmp_path):
    write(tmp_path, "a.yaml")
    os.mkfifo(tmp_path / "f.yaml")
    assert refused(tmp_path) == [
        f"{tmp_path / 'f.yaml'}: not a regular file (a FIFO, socket, device or git submodule); "
        "model files are regular files: remove it"
    ]


def test_a_subdirectory_holding_yaml_files_is_refused_an_unrelated_one_left_alone(tmp_path):
    write(tmp_path, "a.yaml")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "notes.md").write_text("hello\n")
    (tmp_path / "team" / "deep").mkdir(parents=True)
    write(tmp_path / "team" / "deep", "b.yml")
    assert refused(tmp_path) == [
        f"{tmp_path / 'team'}: a subdirectory holding YAML files (team/deep/b.yml), which are never read: models "
        "are read from the files directly in models/; move them there or out of models/"
    ]


def test_a_file_swapped_for_a_link_after_the_listing_is_not_followed(tmp_path):
    """Between listing models/ and reading a file, a link may take the file's place: reading opens
    with O_NOFOLLOW, so the link is refused rather than followed."""
    (tmp_path / "target.yaml").write_text("name: churn\n")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "churn.yaml").symlink_to(tmp_path / "target.yaml")
    with pytest.raises(DesiredStateError, match=r"churn\.yaml: a symbolic link"):
        load_file(tmp_path / "models" / "churn.yaml")
    (tmp_path / "models" / "_policy.yaml").symlink_to(tmp_path / "target.yaml")
    with pytest.raises(DesiredStateError, match=r"_policy\.yaml: a symbolic link"):
        load_policy(tmp_path / "models" / "_policy.yaml")


def test_pull_requests_and_loaders_select_changed_files_by_the_same_rule():
    """The check (github/files.py), the approval rules (governance/rules.py) and the loader spelled
    the rule three times: `.lower().endswith` took models/.yaml for a model file, the others did not."""
    changed = [
        "models/.yaml",
        "models/a.YML",
        "models/_policy.yaml",
        "models/sub/x.yaml",
        "x.yaml",
        "models/b.yaml.bak",
    ]
    assert model_paths(changed, "models") == ["models/_policy.yaml", "models/a.YML"]
    assert [str(p) for p in model_file_paths(changed, "models")] == model_paths(changed, "models")


@pytest.mark.parametrize(("first", "second"), [("foo.yaml", "Foo.yaml"), ("foo.yaml", "foo.yml"), ("a.YML", "A.yaml")])
def test_names_that_clash_on_a_case_insensitive_checkout(tmp_path, first, second):
    write(tmp_path, first)
    write(tmp_path, second)
    with pytest.raises(ValidationErrors) as info:
        model_files(tmp_path)
    (error,) = info.value.errors
    message = str(error)
    assert first in message and second in message and "keep one file per model" in message


def test_unicode_normalization_clash(tmp_path):
    write(tmp_path, unicodedata.normalize("NFC", "caf\u00e9.yaml"))
    write(tmp_path, unicodedata.normalize("NFD", "caf\u00e9.yaml"))
    with pytest.raises(ValidationErrors):
        model_files(tmp_path)


def test_model_path_finds_the_existing_file(tmp_path):
    write(tmp_path, "churn.YML")
    assert model_path(tmp_path, "churn") == tmp_path / "churn.YML"
    assert model_path(tmp_path, "new") == tmp_path / "new.yaml"
    assert model_path(tmp_path / "missing", "new") == tmp_path / "missing" / "new.yaml"


def test_model_path_refuses_a_name_that_differs_only_in_case(tmp_path):
    write(tmp_path, "Churn.yaml")
    with pytest.raises(DesiredStateError, match=r"Churn\.yaml: a model named 'churn' would need churn\.yaml"):
        model_path(tmp_path, "churn")
    write(tmp_path, "caf\u00e9.yaml")
    with pytest.raises(DesiredStateError, match=r"they differ only in U\+00E9 vs U\+0065 U\+0301"):
        model_path(tmp_path, "cafe\u0301")


def test_name_must_match_the_stem_whatever_the_suffix(tmp_path):
    write(tmp_path, "churn.YAML", model="other")
    with pytest.raises(
        ValidationErrors, match=r"churn.YAML:1: name 'other' differs from the file name; rename the file"
    ):
        load_models(tmp_path)


@pytest.mark.parametrize("name", ["_policy.yml", "_policy.YAML", "_Policy.yaml"])
def test_a_policy_file_under_another_spelling_is_refused_not_skipped(tmp_path, name):
    """Skipped, it left the pull requests to the default policy, looser than the file said."""
    write(tmp_path, "churn.yaml")
    (tmp_path / name).write_text("owners: [lead]\n")
    with pytest.raises(ValidationErrors) as e:
        model_files(tmp_path)
    assert str(e.value.errors[0]) == f"{tmp_path / name}: the review policy is read from _policy.yaml only; " + (
        "rename this file to _policy.yaml"
    )


def test_the_policy_file_itself_is_fine(tmp_path):
    write(tmp_path, "churn.yaml")
    (tmp_path / "_policy.yaml").write_text("owners: [lead]\n")
    assert [p.name for p in model_files(tmp_path)] == ["churn.yaml"]


@pytest.mark.parametrize(
    ("first", "second", "differ"),
    [
        ("caf\u00e9.yaml", "cafe\u0301.yaml", "U+00E9 vs U+0065 U+0301"),  # NFC and NFD: one file on macOS
        ("Churn.yaml", "churn.yaml", "U+0043 vs U+0063"),
        ("f\u0131le.yaml", "file.yaml", "U+0131 vs U+0069"),  # dotless i: both 'I' on NTFS, casefold differs
        ("\u017fort.yaml", "sort.yaml", "U+017F vs U+0073"),  # long s
        ("\u212aelvin.yaml", "kelvin.yaml", "U+212A vs U+006B"),  # the Kelvin sign
        ("stra\u00dfe.yaml", "strasse.yaml", "U+00DF vs U+0073 U+0073"),
        ("\u03c3\u03c2.yaml", "\u03a3\u03c3.yaml", "U+03C3 U+03C2 vs U+03A3 U+03C3"),  # final sigma
    ],
)
def test_names_one_file_on_macos_or_windows_are_refused_naming_both_and_the_code_points(
    tmp_path, first, second, differ
):
    """Only NFC + casefold was compared: the dotless i, the long s and others that Windows's
    upper-casing folds slipped through, and the message said only "differ in case or suffix",
    so an NFC/NFD pair that looks identical gave no clue."""
    write(tmp_path, first)
    write(tmp_path, second)
    with pytest.raises(ValidationErrors) as info:
        model_files(tmp_path)
    (error,) = info.value.errors
    message = str(error)
    assert "\n" not in message
    assert str(tmp_path / first) in message and str(tmp_path / second) in message, message
    assert f"they differ only in {differ}" in message or f"they differ only in {_swapped(differ)}" in message, message
    assert message.endswith("keep one file per model")


def _swapped(differ: str) -> str:
    a, b = differ.split(" vs ")
    return f"{b} vs {a}"


@pytest.mark.parametrize(
    "name", ["con.yaml", "CON.yaml", "Nul.yml", "aux.v2.yaml", "com1.yaml", "LPT9.yaml", "com\u00b9.yaml", "prn .yaml"]
)
def test_a_windows_device_name_is_refused(tmp_path, name):
    write(tmp_path, name)
    with pytest.raises(ValidationErrors) as info:
        model_files(tmp_path)
    (error,) = info.value.errors
    assert str(error).startswith(f"{tmp_path / name}: '") and "is a device name on Windows" in str(error), error


@pytest.mark.parametrize("name", ["console.yaml", "conn.yaml", "com10.yaml", "lpt.yaml", "nul_model.yaml"])
def test_names_that_only_resemble_a_device_are_fine(tmp_path, name):
    write(tmp_path, name)
    assert model_files(tmp_path) == [tmp_path / name]


@pytest.mark.parametrize("name", ["churn.yaml.", "churn.yaml ", "churn.yml. ."])
def test_a_file_windows_would_rename_into_a_model_file_is_refused(tmp_path, name):
    """Skipped without a word here, and read as the model file churn.yaml on a Windows checkout."""
    (tmp_path / name).write_text("name: churn\n")
    with pytest.raises(ValidationErrors) as info:
        model_files(tmp_path)
    (error,) = info.value.errors
    assert str(error).startswith(f"{tmp_path / name}: a name ending in '.' or ' ', which Windows drops"), error


def test_registry_names_follow_the_same_rule():
    from reconciler.files import modelnames

    assert modelnames.twins(["f\u0131le", "file", "other"]) == {"f\u0131le": ("file",), "file": ("f\u0131le",)}
    problem = modelnames.twin_problem("caf\u00e9", ["cafe\u0301"])
    assert "they differ only in U+0065 U+0301 vs U+00E9" in problem and "\n" not in problem, problem
    assert "is a device name on Windows" in (modelnames.unmanageable("con") or "")
    assert modelnames.unmanageable("console") is None
