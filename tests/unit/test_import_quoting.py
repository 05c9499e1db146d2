"""Import writes strings that every YAML reader reads back as the same strings.

Each written file is read by PyYAML's SafeLoader (YAML 1.1: yes/on/~/010/1:20/dates are not
strings there), ruamel.yaml (1.2) and this project's loader; all three must return the registry's
strings, keys included.
"""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from reconciler.errors import DesiredStateError
from reconciler.files.importer import render_file
from reconciler.files.yamlscalars import needs_quotes
from reconciler.files.yamlsource import parse
from reconciler.state import Stage
from tests.support.examples import examples
from tests.support.simulate import live_model

AMBIGUOUS = [
    "yes", "no", "on", "off", "y", "n", "Y", "N", "True", "FALSE", "~", "null", "Null", "", " ", "=", "<<",
    "010", "0o17", "0x1F", "0X1F", "0b101", "1_000", "_1", "1:20", "190:20:30.15", "1.0", "1e3", ".5", "1.",
    ".inf", "-.Inf", ".NaN", ".iNf", "+12", "-0", "2026-01-01", "2001-12-14 21:59:43.10 -5", "2001-12-14t21:59:43Z",
    " padded", "padded ", "a: b", "#hash", "- dash", "[x]", "{x}", "*star", "&amp", "!bang", "%pct", "@at", "'q'",
    '"dq"', "multi\nline", "tab\there", "caf\u00e9", "\u00a0nbsp", "ok",
]  # fmt: skip
KEYS = ["on", "yes", "n", "010", "1:20", "2026-01-01", "1.0", "true", "team", "0x1F", "1_0"]


def live(tags: dict[str, str], description: str = "d"):
    return live_model("m", [Stage.STAGING], {"champion": 1}, tags, description=description, version_tags=tags)


def readers(text: str) -> list[dict]:
    return [yaml.load(text, Loader=yaml.SafeLoader), YAML(typ="rt").load(text), parse(text, "m.yaml").data]


def test_ambiguous_values_and_keys_read_back_the_same_everywhere():
    tags = {f"k{i}": v for i, v in enumerate(AMBIGUOUS)} | {k: k for k in KEYS}
    text = render_file(live(tags), None, "models/m.yaml")
    for data in readers(text):
        assert {str(k): v for k, v in data["tags"].items()} == tags
        assert {str(k): v for k, v in data["versions"][1 if 1 in data["versions"] else "1"]["tags"].items()} == tags
        assert all(type(k) is str for k in data["tags"])  # 'on' is not True, '010' is not 8 or 10


def test_existing_comments_survive_and_quotes_come_back():
    existing = "# keep me\nname: m\ntags:\n  team: vision # and me\n  pii: no\nowners: [a]\n"
    text = render_file(live({"team": "vision", "pii": "no"}), existing, "models/m.yaml")
    assert "# keep me" in text and "# and me" in text and "owners: [a]" in text
    assert "pii: 'no'" in text
    for data in readers(text):
        assert data["tags"] == {"team": "vision", "pii": "no"}


printable = st.one_of(
    st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp", "Cf")), max_size=12),
    st.sampled_from(AMBIGUOUS),
    st.from_regex(r"[-+0-9._:eExXoObB ]{1,8}", fullmatch=True),  # number-like text
    st.text(st.sampled_from("a \t\r\n"), max_size=8),  # line breaks: CR, LF, CRLF, mixed
)


@settings(max_examples=examples(100), deadline=None)
@given(st.dictionaries(st.from_regex(r"[a-z][a-z0-9_. :-]{0,8}", fullmatch=True), printable, max_size=4), printable)
def test_any_registry_string_reads_back_the_same(tags, description):
    try:
        text = render_file(live(tags, description), None, "models/m.yaml")
    except DesiredStateError:
        return  # the registry holds a string these files refuse (e.g. a key the schema forbids)
    for data in readers(text):
        assert data.get("tags", {}) == tags
        assert data.get("description", "") == description


def test_needs_quotes_is_false_for_ordinary_words():
    assert not any(needs_quotes(s) for s in ("vision", "ml-leads", "s3://bucket/x", "Production", "gabc123"))


def test_a_registry_value_a_file_may_not_hold_is_named_where_it_is_not_at_a_line_of_the_file():
    """hostile6 #13: an ESC in a version's description was blamed on `models/m.yaml:42`, a line of
    the (clean) file on disk, with "remove the escape"; the culprit is in the registry."""
    with pytest.raises(DesiredStateError) as caught:
        render_file(live({"team": "x"}, description="v desc \x1b[31m"), "name: m\n", "models/m.yaml")
    message = str(caught.value)
    assert message.startswith("model 'm' in the registry, /description: holds control character U+001B"), message
    assert "change it in the registry" in message and "models/m.yaml" not in message
    token = {"ci": "https://u:ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/x"}
    with pytest.raises(DesiredStateError, match=r"in the registry, /tags/ci: holds what looks like a credential"):
        render_file(live(token), None, "models/m.yaml")


def test_import_keeps_a_crlf_files_line_endings():
    """hostile6 #12, import's half: the round-trip writer kept CR on comment lines only."""
    existing = "# keep me\r\nname: m\r\ntags:\r\n  team: vision # and me\r\n"
    text = render_file(live({"team": "vision", "pii": "no"}), existing, "models/m.yaml")
    assert text.count("\r\n") == text.count("\n") and "# keep me\r\n" in text and "# and me\r\n" in text


CARRIAGE_RETURNS = ["first line\r\nsecond line", "a\rb", "a\r\nb\nc\rd", "ends\r\n", "\r\n", "x\r\n\r\ny\n", "t\r"]


@pytest.mark.parametrize("existing", [None, "name: m\n", "name: m\r\ndescription: old\r\n"])
def test_a_carriage_return_in_any_imported_value_reads_back_and_plans_no_change(existing, tmp_path):
    """hostile9 #4: a value with CRLF was written as a literal block, which reads CR and CRLF as a
    line break; the next plan changed every such description. Every string import writes (model
    and version descriptions, tags) keeps each CR, whatever line endings the existing file has."""
    from reconciler import engine
    from reconciler.plan.builder import build_plan
    from reconciler.state import LiveState

    for value in CARRIAGE_RETURNS:
        model = live({"team": value, "plain": "x"}, description=value)
        text = render_file(model, existing, "models/m.yaml")
        for data in readers(text):
            assert data["description"] == value and data["tags"]["team"] == value
            version = data["versions"][1 if 1 in data["versions"] else "1"]
            assert version["description"] == value and version["tags"]["team"] == value
        (tmp_path / "m.yaml").write_bytes(text.encode())
        plan = build_plan(engine.load(tmp_path), LiveState({"m": model}))
        assert not plan.has_changes(), (value, text)


@pytest.mark.parametrize("existing", [None, "# kept\nname: m\n"])
def test_a_refusal_says_whose_it_is_to_fix_the_registrys_or_the_files(existing):
    """hostile9 #12: `import --all` advised renaming models whose values a file cannot hold; the
    summary takes its advice from the kind of each refusal, which render_file raises."""
    from reconciler.files.importer import RegistryValueError

    for registry_side in ({"gitops.x": "v"}, {"ok": "a\x0bb"}):  # the schema refuses it / value_problem does
        with pytest.raises(RegistryValueError):
            render_file(live(registry_side), existing, "models/m.yaml")
    if existing is not None:  # the file's own key: fixing the file is what helps
        with pytest.raises(DesiredStateError, match="import would write an invalid file") as caught:
            render_file(live({"ok": "v"}), existing + "colour: teal\n", "models/m.yaml")
        assert not isinstance(caught.value, RegistryValueError)
