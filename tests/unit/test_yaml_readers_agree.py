"""The fast reader (yaml-rs) and the reference reader (libyaml events + yamlscalars) mean the same
by every plain scalar, and the reference reader's line lookups point at the right lines."""

from __future__ import annotations

import math

import pytest
import yaml_rs
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.files.yamlscalars import resolve_plain
from reconciler.files.yamlsource import parse
from reconciler.files.yamlstrict import build

NUMBERISH = st.text(alphabet="0123456789_.+-eExXoObBaAfFiInNlLuU", min_size=1, max_size=9)
CORPUS = [
    "0", "-0", "+0", "00", "010", "0o17", "0O17", "0x1F", "0X1f", "-0x1F", "+0b11", "0B11", "0x", "0o", "0b_",
    "1_000", "_1", "1_", "1__0", "-_1", "1.", ".5", "._5", "1._", "1e3", "1E+3", "1e_5", "1e", ".e5", "1.5.5",
    "1e400", ".inf", "-.Inf", "+.INF", ".iNf", ".NaN", "+.nan", "-.nan", ".nan", "1:20", "2026-01-01", "~",
    "null", "Null", "NULL", "nULL", "true", "True", "TRUE", "tRUE", "yes", "on", "y", "+", ".", "e5", "0x1e3",
    "12345678901234567890123", "9" * 99,
]  # fmt: skip


def same(a, b):
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    return type(a) is type(b) and a == b


def fast_value(token):
    try:
        return yaml_rs.loads(f"a: {token}\n", parse_datetime=False)["a"]
    except yaml_rs.YAMLDecodeError:
        return pytest.skip.Exception  # not a plain scalar to it (e.g. "-"); nothing to compare


def check(token):
    fast = fast_value(token)
    if fast is pytest.skip.Exception:
        return
    assert same(resolve_plain(token), fast), (token, resolve_plain(token), fast)
    assert same(build(f"a: {token}\n", "t")["a"], fast), token


@pytest.mark.parametrize("token", CORPUS)
def test_corpus(token):
    check(token)


@settings(max_examples=400, deadline=None)
@given(NUMBERISH)
def test_number_like_tokens(token):
    check(token)


def test_lines_point_at_keys_and_items():
    text = "# c\nname: m\nversions:\n  3:\n    stage: Production\n    tags:\n      t: x\nowners:\n  - a\n  - b\n"
    doc = parse(text, "m.yaml")
    assert doc.line([]) == 1
    assert doc.line(["name"]) == 2
    assert doc.line(["versions", "3", "stage"]) == 5
    assert doc.line(["versions", "3", "tags", "t"]) == 7
    assert doc.line(["versions", "3", "missing"]) == 4  # the deepest node that exists
    assert doc.line(["owners", 1]) == 10
    assert doc.line(["owners", "7"]) == 8


# Where the fuzzer found yaml-rs and libyaml to disagree; each now goes to the reference reader.
DISAGREEMENTS = [
    "name: m\ndescription: |\n  a \n  b ",  # a last block scalar without a final line break: yaml-rs adds one
    "name: m\ndescription: >\n  a",
    "name: m\r\ndescription: |\r\n\r\n",  # an empty block scalar at the end: yaml-rs makes it "\n"
    "name: m\ndescription: | # note\n\n   \n",
    "name: m\ntags:\n  a: >\n",
]


@pytest.mark.parametrize("text", DISAGREEMENTS)
def test_known_disagreements_are_read_by_the_reference_reader(text):
    doc = parse(text, "m.yaml")
    assert not doc.schema_valid  # not the fast reader's data
    assert doc.data == build(text, "m.yaml")
