"""Hypothesis strategies for the loader fuzzers: desired-state files, valid and otherwise.

- documents(): schema-shaped models rendered with every YAML style: block and flow, plain, quoted
  and block scalars, escapes, anchors and aliases, comments, BOM, CRLF, document markers;
- mutated(): realistic files (tests/modelgen) and rendered documents with bytes, characters,
  lines, tags, anchors, indentation, confusables and odd whitespace changed, or re-encoded;
- bombs(): alias expansion ("billion laughs"), deep nesting of every kind, huge scalars;
- scalar_swaps(): every scalar type (and collections) put in every position, plain or tagged;
- random_bytes().
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from tests.support.modelgen import model_text

TRIPWIRE = "!!python/object/apply:tests.support.yamlcheck.tripwire"
TAGS = [
    "!!str",
    "!!int",
    "!!float",
    "!!bool",
    "!!null",
    "!!binary",
    "!!timestamp",
    "!!set",
    "!!omap",
    "!custom",
    "!",
    "!!map",
    "!!seq",
    "!<tag:yaml.org,2002:str>",
    "!!merge",
    TRIPWIRE + " [1]",
    "!!python/name:os.system",
]
SCALARS = [
    "yes",
    "no",
    "on",
    "off",
    "y",
    "n",
    "~",
    "null",
    "Null",
    "NULL",
    "true",
    "False",
    "010",
    "0o17",
    "0x1F",
    "0X1F",
    "0b101",
    "1_000",
    "_1",
    "1:20",
    "190:20:30",
    "2026-01-01",
    "2001-12-14t21:59:43.10-05:00",
    ".inf",
    "-.Inf",
    ".NaN",
    ".iNf",
    "+.nan",
    "1e3",
    "1.",
    ".5",
    "._5",
    "1e_5",
    "-0",
    "+5",
    "00",
    "1.0",
    "12345678901234567890",
    "9" * 120,
    "<<",
    "=",
    "",
    "''",
    '""',
    "[]",
    "{}",
    "[1, 2]",
    "{a: 1}",
    "- x",
    "? x",
    "*x",
    "&x y",
    "a: b",
    "#x",
    "@x",
    "`x",
    "|",
    ">",
    "%x",
    "x #c",
    " x",
    "x ",
    "'x'",
    '"x\\x07"',
    '"\\ud800"',
    '"\\u202e"',
]
ODD = [
    "\u00a0",
    "\u2003",
    "\u3000",
    "\u200b",
    "\u200d",
    "\u2028",
    "\u2029",
    "\u0085",
    "\ufeff",
    "\u202e",
    "\u2066",
    "\t",
    "\r",
    "\x00",
    "\x07",
    "\x1b",
    "\x7f",
    "\u0430",
    "\u03bf",
    "\uff41",
    "\u0131",
    "\u017f",
    "e\u0301",
]
CONFUSABLE = {"a": "\u0430", "o": "\u03bf", "e": "\u0435", "p": "\u0440", "c": "\u0441", "i": "\u0456", ":": "\uff1a"}
STAGES = ["None", "Staging", "Production", "Archived"]

names = st.from_regex(r"[a-z][a-z0-9-]{0,12}", fullmatch=True)
keys = st.one_of(names, st.sampled_from(["team", "task", "pii", "validated_by", "yes", "on", "1", "01", "a b"]))
text_values = st.one_of(st.text(max_size=30), st.sampled_from(SCALARS), names)
scalars = st.one_of(text_values, st.integers(-5, 10**20), st.booleans(), st.none(), st.floats(allow_nan=True))


@st.composite
def models(draw: Any) -> dict[str, Any]:
    """Plain data shaped like a desired-state document (valid more often than not)."""
    doc: dict[str, Any] = {"name": draw(names)}
    if draw(st.booleans()):
        doc["description"] = draw(st.one_of(st.text(max_size=60), st.sampled_from(["a\nb\n", "  lead", "x: y # z"])))
    if draw(st.booleans()):
        doc["tags"] = draw(st.dictionaries(keys, text_values, max_size=4))
    if draw(st.booleans()):
        doc["aliases"] = draw(st.dictionaries(names, st.integers(1, 30), max_size=3))
    versions = draw(
        st.dictionaries(
            st.integers(1, 40),
            st.fixed_dictionaries(
                {},
                optional={
                    "stage": st.sampled_from(STAGES),
                    "description": text_values,
                    "tags": st.dictionaries(keys, text_values, max_size=3),
                },
            ),
            max_size=5,
        )
    )
    if versions:
        doc["versions"] = versions
    if draw(st.booleans()):
        doc["policy"] = {
            "exclusive_stages": ["Production"],
            "keep_latest": draw(st.integers(1, 9)),
            "prune": {"tags": draw(st.booleans())},
        }
    return doc


@st.composite
def render(draw: Any, value: Any, indent: int = 0, anchors: list[str] | None = None) -> str:
    """One YAML rendering of `value`, styles chosen by Hypothesis."""
    anchors = anchors if anchors is not None else []
    if isinstance(value, dict) and value and draw(st.integers(0, 3)) > 0:
        pad = " " * indent
        lines = []
        for k, v in value.items():
            key = draw(render_scalar(k))
            body = draw(render(v, indent + draw(st.sampled_from([2, 4])), anchors))
            comment = draw(st.sampled_from(["", "", " # note", "  #: x"]))
            if isinstance(v, str) and draw(st.integers(0, 3)) == 0:
                lines.append(draw(_multiline(pad, key, v)))
            elif isinstance(v, (dict, list)) and v and not body.lstrip().startswith(("{", "[")):
                lines.append(f"{pad}{key}:{comment}\n{body}")
            else:
                lines.append(f"{pad}{key}: {body.strip()}{comment}\n")
        return "".join(lines)
    if isinstance(value, list) and value and draw(st.booleans()):
        pad = " " * indent
        return "".join(f"{pad}- {draw(render(v, indent + 2, anchors)).strip()}\n" for v in value)
    if isinstance(value, (dict, list)):
        return _flow(draw, value)
    return draw(render_scalar(value))


@st.composite
def _multiline(draw: Any, pad: str, key: str, text: str) -> str:
    """`key: |`, `>-`, `|+`... block scalars, or plain and quoted scalars folded over lines."""
    inner = pad + " " * draw(st.sampled_from([1, 2, 4]))
    style = draw(st.sampled_from(["|", "|-", "|+", ">", ">-", ">+", "|2", "plain", "double", "single"]))
    if style in ("plain", "double", "single"):
        quote = {"plain": "", "double": '"', "single": "'"}[style]
        folded = text.replace(" ", "\n" + inner, 1) if " " in text else text
        return f"{pad}{key}: {quote}{folded}{quote}\n"
    body = "".join((inner + line if line.strip() else line) + "\n" for line in text.split("\n"))
    trailing = draw(st.sampled_from(["", "\n", "\n\n", inner + "\n"]))
    return f"{pad}{key}: {style}\n{body}{trailing}"


def _flow(draw: Any, value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{draw(render_scalar(k))}: {_flow(draw, v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(draw, v) for v in value) + "]"
    return draw(render_scalar(value, flow=True))


@st.composite
def render_scalar(draw: Any, value: Any, flow: bool = False) -> str:
    text = (
        value
        if isinstance(value, str)
        else json.dumps(value)
        if value is not None
        else draw(st.sampled_from(["~", "null", ""]))
    )
    style = draw(st.sampled_from(["plain", "plain", "single", "double", "double-escaped"]))
    if style == "plain" and text and "\n" not in text:
        return text
    if style == "single":
        return "'" + text.replace("'", "''") + "'"
    if style == "double-escaped":
        return '"' + "".join(f"\\x{ord(c):02x}" if ord(c) < 256 and c.isalpha() else _esc(c) for c in text) + '"'
    return '"' + "".join(_esc(c) for c in text) + '"'


def _esc(c: str) -> str:
    return {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t"}.get(c) or (c if c.isprintable() else f"\\u{ord(c):04x}")


@st.composite
def documents(draw: Any) -> str:
    text = draw(render(draw(models())))
    head = draw(st.sampled_from(["", "", "---\n", "# header\n", "%YAML 1.2\n---\n", "\ufeff"]))
    tail = draw(st.sampled_from(["", "", "...\n", "# end\n", "\n\n"]))
    text = head + text + tail
    return text.replace("\n", "\r\n") if draw(st.integers(0, 9)) == 0 else text


@st.composite
def realistic(draw: Any) -> str:
    return model_text(draw(st.integers(0, 10_000)), draw(st.integers(1, 25)), draw(st.integers(0, 3)))[1]


@st.composite
def mutated(draw: Any) -> str | bytes:
    text = draw(st.one_of(realistic(), documents()))
    for _ in range(draw(st.integers(1, 4))):
        text = draw(_mutation(text))
    encoding = draw(st.sampled_from(["str", "utf-8", "utf-8", "utf-8-sig", "latin-1", "utf-16", "cp1252"]))
    if encoding == "str":
        return text
    return text.encode(encoding, "replace")


@st.composite
def _mutation(draw: Any, text: str) -> str:
    if not text:
        return draw(text_values)
    i = draw(st.integers(0, len(text) - 1))
    lines = text.split("\n")
    j = draw(st.integers(0, len(lines) - 1))
    kind = draw(st.integers(0, 11))
    if kind == 0:
        return text[:i] + text[i + 1 :]
    if kind == 1:
        return (
            text[:i]
            + draw(st.sampled_from([*ODD, ":", "-", "[", "{", "'", '"', "#", "&a ", "*a", "\\", " "]))
            + text[i:]
        )
    if kind == 2:
        return text[:i] + draw(st.sampled_from(TAGS)) + " " + text[i:]
    if kind == 3:
        return "\n".join([*lines[:j], lines[j], *lines[j:]])  # a duplicated line: duplicate keys
    if kind == 4:
        return "\n".join([*lines[:j], " " * draw(st.integers(1, 6)) + lines[j], *lines[j + 1 :]])
    if kind == 5:
        return "".join(CONFUSABLE.get(c, c) if draw(st.integers(0, 20)) == 0 else c for c in text[:300]) + text[300:]
    if kind == 6:
        return text[:i]
    if kind == 7:
        return text.replace(": ", ": &x ", 1).replace(": ", ": *x ", 1) if "&x" not in text else text + "k: *x\n"
    if kind == 8:
        return text[:i] + draw(st.sampled_from(SCALARS)) + text[i:]
    if kind == 9:
        return text.replace(" ", "\t", draw(st.integers(1, 3)))
    if kind == 10:
        return text + draw(st.sampled_from(["versions:\n  1: {}\n", '  "1": {stage: Staging}\n', "<<: {a: 1}\n"]))
    return text.replace("\n", draw(st.sampled_from(["\r", "\r\n", "\u2028", "\u0085", "\n\n"])), 3)


@st.composite
def scalar_swaps(draw: Any) -> str:
    """A realistic file with one scalar replaced by any other scalar, collection or tagged value."""
    lines = model_text(draw(st.integers(0, 999)), draw(st.integers(1, 6)))[1].split("\n")
    candidates = [n for n, line in enumerate(lines) if ": " in line or line.strip().endswith(":")]
    n = draw(st.sampled_from(candidates))
    key, _, value = lines[n].partition(":")
    new = draw(st.sampled_from(SCALARS))
    if draw(st.booleans()):
        new = f"{draw(st.sampled_from(TAGS))} {new}"
    if draw(st.booleans()) or not value.strip():
        lines[n] = f"{key}: {new}"
    else:
        lines[n] = f"{key.rstrip()[: len(key) - len(key.lstrip())]}{new}:{value}"
    return "\n".join(lines)


@st.composite
def bombs(draw: Any) -> str:
    kind = draw(st.integers(0, 5))
    width, depth = draw(st.integers(2, 12)), draw(st.integers(2, 14))
    if kind == 0:
        lines = [f"a0: &a0 [{', '.join(['x'] * width)}]"]
        lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, depth)]
        return "name: m\n" + "\n".join(lines) + "\n"
    n = draw(st.sampled_from([20, 33, 100, 1000, 5000, 30_000]))
    if kind == 1:
        return "name: m\ntags: " + "[" * n + "]" * n + "\n"
    if kind == 2:
        return "name: m\ntags:\n" + "- " * n + "x\n"
    if kind == 3:
        return "name: m\ntags:\n" + "".join(" " * (i + 1) + f"k{i}:\n" for i in range(min(n, 3000))) + "  v\n"
    if kind == 4:
        return "name: m\ntags: " + "{a: " * n + "1" + "}" * n + "\n"
    return "name: m\ndescription: " + draw(st.sampled_from(["x", "9", "[", "'"])) * (n * 30) + "\n"


random_bytes = st.binary(max_size=2000)


def any_input() -> st.SearchStrategy[str | bytes]:
    return st.one_of(documents(), mutated(), scalar_swaps(), bombs(), random_bytes, realistic())
