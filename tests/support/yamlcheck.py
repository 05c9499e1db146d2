"""What must hold for any input to the loader and validator (used by the fuzzers).

`check_input(content)` runs one input the way `reconciler validate` does (read, schema check,
typed conversion, semantic checks) and raises AssertionError when:
- anything but a DesiredStateError escapes (that would be exit 3, "internal error");
- an error message is not one line that starts with the file name;
- the data holds anything but plain values (dict/list/str/int/float/bool/None, str keys);
- a tag made Python call something (the tripwire);
- the fast reader's data differs from the reference reader's.
It returns the outcome ("fast", "reference" or the error's first words) for statistics.
"""

from __future__ import annotations

import math
from typing import Any

from reconciler.errors import DesiredStateError, ValidationErrors
from reconciler.files import schemacheck
from reconciler.files.convert import check_semantics, from_document
from reconciler.files.desired import origin_for
from reconciler.files.yamlsource import parse, read_reference

SOURCE = "fuzz/model.yaml"
PLAIN = (dict, list, str, int, float, bool, type(None))
TRIPPED: list[Any] = []


def tripwire(*args: Any) -> None:
    """Named by the fuzzer's !!python/object/apply tags: if anything calls it, a tag was obeyed."""
    TRIPPED.append(args)


def check_input(content: str | bytes) -> str:
    try:
        doc = parse(content, SOURCE)
        assert_plain(doc.data)
        if doc.schema_valid:
            reference = read_reference(doc.text, SOURCE)
            assert same(doc.data, reference), f"fast and reference readers differ:\n{doc.data!r}\n{reference!r}"
        schemacheck.check(doc)
        model = from_document(doc.data, origin_for(doc))
        check_semantics(model)
        outcome = "fast" if doc.schema_valid else "reference"
    except DesiredStateError as e:
        messages = [str(one) for one in (e.errors if isinstance(e, ValidationErrors) else [e])]
        for message in messages:  # one line per problem
            assert "\n" not in message and message.startswith(SOURCE + ":"), f"not a one-line error: {message!r}"
        outcome = _kind(messages[0])
    assert not TRIPPED, f"a YAML tag made Python call {TRIPPED!r}"
    return outcome


def _kind(message: str) -> str:
    words = message[len(SOURCE) + 1 :].split(": ", 1)[-1].split()
    return "error: " + " ".join(words[:3])


def assert_plain(data: Any) -> None:
    stack, seen = [data], set()
    while stack:
        node = stack.pop()
        assert type(node) in PLAIN, f"not plain data: {type(node).__name__} {node!r:.80}"
        if type(node) in (dict, list):
            if id(node) in seen:  # an alias: the same object again
                continue
            seen.add(id(node))
        if type(node) is dict:
            assert all(type(k) is str for k in node), f"a key that is not a string: {list(node)!r:.80}"
            stack.extend(node.values())
        elif type(node) is list:
            stack.extend(node)


def same(a: Any, b: Any) -> bool:
    """Equal values of equal types (1, 1.0 and True differ; NaN equals NaN)."""
    if type(a) is not type(b):
        return False
    if type(a) is dict:
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if type(a) is list:
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is float and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)
