"""Each strictness rule of the loader: one clear line (file:line: what; what to do), nothing else.

Most of these failed before the loader was rewritten (a Latin-1 file crashed with exit 3, `1:` and
`"1":` merged silently, `*.YAML` files were ignored...): see the commit that added this file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import DesiredStateError, ValidationErrors
from reconciler.files.desired import load_models
from reconciler.files.yamlsource import parse

GOOD = "name: churn\nversions:\n  1:\n    stage: Production\n"


def error_for(tmp_path: Path, content: str | bytes, name: str = "churn.yaml") -> str:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    with pytest.raises(ValidationErrors) as info:
        load_models(tmp_path)
    (error,) = info.value.errors
    message = str(error)
    assert "\n" not in message and message.startswith(f"{path}:"), message
    return message[len(str(path)) :]


def test_latin1_file_names_line_and_byte(tmp_path):
    text = "name: churn\ndescription: caf\xe9 au lait\n".encode("latin-1")
    assert error_for(tmp_path, text) == ":2: not UTF-8: byte 0xe9 at column 17 (offset 28); save the file as UTF-8"


def test_utf16_file_is_named_as_such(tmp_path):
    assert ":1: not UTF-8 (it looks like UTF-16)" in error_for(tmp_path, GOOD.encode("utf-16"))


def test_utf8_bom_is_fine(tmp_path):
    (tmp_path / "churn.yaml").write_bytes(b"\xef\xbb\xbf" + GOOD.encode())
    (model,) = load_models(tmp_path)
    assert model.name == "churn"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: churn\ndescription: a\x00b\n", ":2: control character U+0000 (NUL) at column 15 is not allowed"),
        ("name: churn\ndescription: a\x07b\n", ":2: control character U+0007 at column 15 is not allowed"),
        ("name: churn\ndescription: a\x85b\n", ":2: control character U+0085 (NEL) at column 15 is not allowed"),
        ("name: churn\ndescription: a\u2028b\n", ":2: character U+2028 (LINE SEPARATOR) at column 15"),
        ("name: churn\ntags: {owner: \u202eevil}\n", ":2: bidirectional control character U+202E"),
        ("name: churn\ndescription: x\ufeffy\n", ":2: character U+FEFF (BOM) at column 15"),
        ('name: churn\ndescription: "a\\x07b"\n', ":2: control character U+0007 in a string is not allowed"),
        ('name: churn\ndescription: "a\\0b"\n', ":2: control character U+0000 (NUL) in a string"),
        ('name: churn\ndescription: "\\ud800"\n', ":2: "),  # a lone surrogate: libyaml or our check refuses it
    ],
)
def test_control_and_invisible_characters(tmp_path, text, expected):
    assert expected in error_for(tmp_path, text)


def test_duplicate_keys_name_both_lines(tmp_path):
    text = "name: churn\ntags:\n  team: a\n  other: b\n  team: c\n"
    assert error_for(tmp_path, text) == ":5: duplicate key 'team' (also on line 3); keep one"


def test_version_keys_that_collide_as_text_are_refused(tmp_path):
    text = 'name: churn\nversions:\n  1: {stage: Staging}\n  "1": {stage: Production}\n'
    message = error_for(tmp_path, text)
    assert message.startswith(":4: key '1' and key 1 on line 3 are the same key '1' once read as text; keep one")


def test_version_numbers_spelled_twice_are_duplicates(tmp_path):
    assert ":4: duplicate key '1' (also on line 3)" in error_for(
        tmp_path, "name: churn\nversions:\n  01: {}\n  1: {}\n"
    )


@pytest.mark.parametrize(
    ("key", "kind"), [("true", "a boolean"), ("~", "null"), ("null", "null"), ("1.5", "a number"), ("1", "a number")]
)
def test_keys_that_are_not_strings(tmp_path, key, kind):
    message = error_for(tmp_path, f"name: churn\ntags:\n  {key}: x\n")
    assert message.startswith(f":3: mapping key {key} is read as {kind}, not a string"), message
    assert message.endswith("; quote it")


def test_a_list_as_a_key(tmp_path):
    assert ":3: a mapping or a list as a mapping key is not allowed" in error_for(
        tmp_path, "name: churn\ntags:\n  [a]: x\n"
    )


@pytest.mark.parametrize(
    "tag", ["!!python/object/apply:os.system", "!custom", "!!binary", "!!timestamp", "!!set", "!!omap", "!!merge"]
)
def test_tags_other_than_the_core_ones(tmp_path, tag):
    message = error_for(tmp_path, f"name: churn\ndescription: {tag} x\n")
    assert message.startswith(f":2: YAML tag {tag} is not allowed"), message


def test_core_tags_still_mean_plain_data():
    doc = parse("name: !!str churn\naliases: {champion: !!int '2'}\ntags: {a: ! 12}\n", "m.yaml")
    assert doc.data == {"name": "churn", "aliases": {"champion": 2}, "tags": {"a": "12"}}


def test_a_core_tag_on_a_wrong_value(tmp_path):
    assert ":2: 'x' is not a valid !!int" in error_for(tmp_path, "name: churn\naliases: {a: !!int x}\n")


def test_recursive_alias(tmp_path):
    assert ":2: alias *a refers to the node that contains it" in error_for(tmp_path, "name: churn\ntags: &a {x: *a}\n")


def test_yaml11_directive(tmp_path):
    assert ":1: %YAML 1.1 directive" in error_for(tmp_path, "%YAML 1.1\n---\nname: churn\n")


def test_second_document(tmp_path):
    assert (
        error_for(tmp_path, "name: churn\n---\nname: other\n") == ":2: a second YAML document; keep one model per file"
    )


@pytest.mark.parametrize("text", ["", "\n\n  \n", "# only a comment\n", "---\n", "\ufeff"])
def test_empty_files(tmp_path, text):
    assert error_for(tmp_path, text).startswith(":1: the file is empty; write at least 'name: <model name>'")


@pytest.mark.parametrize("text", ["- a\n", "just text\n", "42\n", "[name, churn]\n"])
def test_top_level_not_a_mapping(tmp_path, text):
    assert error_for(tmp_path, text).startswith(":1: expected a mapping with at least 'name:'")


def test_file_over_one_mib_is_refused_without_reading_it_whole(tmp_path):
    assert "larger than 1024 KiB" in error_for(tmp_path, "name: churn\n" + "#" * (1024 * 1024) + "\n")


def test_a_number_too_long_to_be_a_number(tmp_path):
    assert ":2: a number with more than 1000 digits" in error_for(
        tmp_path, "name: churn\naliases: {a: " + "9" * 5000 + "}\n"
    )


def test_tag_key_with_a_trailing_newline(tmp_path):
    # Python's re lets `$` match before a final newline, so the old check passed "team\n".
    assert ":2: /tags: " in error_for(tmp_path, 'name: churn\ntags: {"team\\n": x}\n')


def test_yaml12_meanings_are_kept():
    text = (
        "name: churn\n"
        "tags: {a: yes, b: on, c: 1:20, d: 2026-01-01, e: 'no', f: Null}\n"
        "aliases: {champion: 010, challenger: 0x1F}\n"
        "versions: {010: {}, 1_1: {}}\n"
    )
    data = parse(text, "m.yaml").data
    assert data["tags"] == {"a": "yes", "b": "on", "c": "1:20", "d": "2026-01-01", "e": "no", "f": None}
    assert data["aliases"] == {"champion": 10, "challenger": 31}
    assert list(data["versions"]) == ["10", "11"]


def test_merge_keys_as_ruamel_applied_them():
    from ruamel.yaml import YAML

    text = "name: m\nx: &d {a: 1, b: 2}\ny: &e {c: 3, a: 9}\nz:\n  <<: [*d, *e]\n  b: 5\n"
    assert parse(text, "m.yaml").data == YAML(typ="safe", pure=True).load(text)


def test_error_lines_point_at_the_key(tmp_path):
    text = "name: churn\n\nversions:\n  1:\n    stage: Production\n  2:\n    tags:\n      t: 1\n"
    assert error_for(tmp_path, text).startswith(":8: /versions/2/tags/t: 1 must be a string; quote it")


def test_parse_is_the_same_from_bytes_and_text():
    text = "name: churn\ndescription: caf\u00e9\n"
    assert parse(text, "m").data == parse(text.encode(), "m").data == {"name": "churn", "description": "caf\u00e9"}


def test_errors_are_desired_state_errors_from_parse():
    with pytest.raises(DesiredStateError):
        parse(b"\xff", "m.yaml")


@pytest.mark.parametrize(
    ("appended", "expected"), [("description: later\n", None), ("#" * (1024 * 1024) + "\n", "larger")]
)
def test_a_file_that_grows_while_it_is_read(tmp_path, monkeypatch, appended, expected):
    """Read whole or refused, never cut where the size was measured."""
    import os

    from reconciler.files import yamlsource

    path = tmp_path / "churn.yaml"
    path.write_text("name: churn\n")
    measured = os.fstat

    def fstat_then_append(fd):
        result = measured(fd)
        with path.open("a") as f:
            f.write(appended)
        return result

    monkeypatch.setattr(os, "fstat", fstat_then_append)  # measured once, as the file is opened
    if expected is None:
        assert yamlsource.read_model_file(path).data == {"name": "churn", "description": "later"}
    else:
        with pytest.raises(DesiredStateError, match="larger than 1024 KiB"):
            yamlsource.read_model_file(path)
