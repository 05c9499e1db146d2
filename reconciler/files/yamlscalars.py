"""What a plain (unquoted, untagged) YAML scalar means, and which strings must be quoted when written.

Reading follows the YAML 1.2 core schema, so `yes`, `on`, `y`, `1:20` and `2026-01-01` are strings
and `010` is the integer 10, widened (as ruamel.yaml, which read these files before, widened it)
to the other spellings of numbers: `_` between digits (`1_000`), `0b`/`0o`/`0x` prefixes in either
case, `.inf`/`.nan` in any case. So whatever some YAML reader takes for a number is a number here
too, and the schema then asks for quotes where a string is meant. The grammar is exactly the one
the fast reader (yaml-rs) applies; tests/unit/test_yaml_readers_agree.py holds the two together.
Writing quotes every string that this reader or a YAML 1.1 reader (PyYAML's SafeLoader, Go's
yaml.v2, many CI tools) would not read back as that same string.
"""

from __future__ import annotations

import re
from typing import Any

NULLS = frozenset(("", "~", "null", "Null", "NULL"))
BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(
    r"[-+]?(?:0[xX][0-9a-fA-F_]*[0-9a-fA-F][0-9a-fA-F_]*|0[oO][0-7_]*[0-7][0-7_]*|0[bB][01_]*[01][01_]*"
    r"|[0-9_]*[0-9][0-9_]*)"
)
_EXPONENT = r"[eE][-+]?[0-9_]*[0-9][0-9_]*"
_FLOAT = re.compile(rf"[-+]?(?=[._]*[0-9])(?:[0-9_]*\.[0-9_]*(?:{_EXPONENT})?|[0-9_]+{_EXPONENT})")
_INF = re.compile(r"[-+]?\.(?i:inf)")
_NAN = re.compile(r"\.(?i:nan)")
_RADIX = {"x": 16, "o": 8, "b": 2}
_NUMBER_START = frozenset("-+._0123456789")


def resolve_plain(text: str) -> Any:
    """The value of a plain scalar: None, bool, int, float or the string itself."""
    if text in NULLS:
        return None
    if text in BOOLS:
        return BOOLS[text]
    if text[0] not in _NUMBER_START:
        return text
    if _FLOAT.fullmatch(text):
        return float(text.replace("_", ""))
    if _INF.fullmatch(text):
        return float("-inf") if text[0] == "-" else float("inf")
    if _NAN.fullmatch(text):
        return float("nan")
    if _INT.fullmatch(text):
        return _int(text)
    return text


def is_int(text: str) -> bool:
    return _INT.fullmatch(text) is not None


def _int(text: str) -> int:
    sign = -1 if text[0] == "-" else 1
    digits = text.lstrip("+-").replace("_", "")
    radix = _RADIX.get(digits[1:2].lower(), 10) if digits[:1] == "0" else 10
    return sign * int(digits[2:] if radix != 10 else digits, radix)


# Strings some YAML reader takes for something else: YAML 1.1 booleans and nulls, numbers in any
# base or spelling (sexagesimal 1:20, 0X1F, 1_000, .iNf), timestamps, the merge key.
_YAML11_WORDS = frozenset(("y", "Y", "n", "N", "=", "<<"))
_NUMBERISH = re.compile(r"[-+]?[._0-9][0-9a-zA-Z_:.+-]*|[-+]?\.(?i:inf|nan)")
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt ]|$).*", re.S)


def needs_quotes(value: str) -> bool:
    """True when writing `value` unquoted would let some YAML reader read it as something else."""
    if not value or value != value.strip() or value in _YAML11_WORDS:
        return True
    if value.lower() in ("null", "~", "true", "false", "yes", "no", "on", "off"):
        return True
    if resolve_plain(value) is not value:
        return True
    return bool(_NUMBERISH.fullmatch(value) or _TIMESTAMP.match(value))
