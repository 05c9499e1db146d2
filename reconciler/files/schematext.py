"""How a generated JSON Schema is written (schemas/*.schema.json): one text for the committed file,
the tests that compare it and the `--write` entry points of schemagen and policyschema."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def schema_text(schema: Mapping[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def write_or_print(path: Path, text: str, argv: list[str]) -> None:
    """`--write`: the committed file; otherwise standard output (to diff by hand)."""
    if argv == ["--write"]:
        path.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
