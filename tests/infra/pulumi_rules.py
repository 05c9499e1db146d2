"""The Pulumi CLI's check of a stack's config against the project's declared config, mirrored.

Before the program runs, `pulumi up` merges the stack file with Pulumi.yaml's `config:` and refuses
the stack when (pulumi/pulumi sdk/go/common/workspace, mergeConfig and validateStackConfigValues;
its test expects "Stack 'dev' is missing configuration value ..."):
- a key of the project's namespace declared without `default` (or `value`) is not in the stack:
  "Stack '<stack>' is missing configuration value(s) 'a', 'b' and 'c'" (all of them, sorted);
- a key declared `secret: true` holds a plain value: "... must be encrypted as it's secret";
- a value does not parse as the declared type: "... must be of type '<type>'".
The mocks run the program with whatever config they are given, so none of this happens there.
"""

from __future__ import annotations

import json
import re
from typing import Any

_BOOLEANS = {"1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False"}  # Go's ParseBool


def _format_missing(keys: list[str]) -> str:
    if len(keys) == 1:
        return f"'{keys[0]}'"
    keys = sorted(keys)
    return ", ".join(f"'{k}'" for k in keys[:-2]) + (", " if len(keys) > 2 else "") + f"'{keys[-2]}' and '{keys[-1]}'"


def _valid(decl: dict[str, Any], value: Any) -> bool:
    typ = decl["type"]
    if typ == "array":
        items = value if isinstance(value, list) else None
        return items is not None and all(_valid(decl["items"], item) for item in items)
    if isinstance(value, (dict, list)):
        return False
    text = json.dumps(value) if isinstance(value, bool) else str(value)
    if typ == "integer":
        return re.fullmatch(r"[+-]?\d+", text) is not None
    if typ == "boolean":
        return text in _BOOLEANS
    return typ == "string"


def config_errors(stack: str, project: dict[str, Any], stack_config: dict[str, Any]) -> list[str]:
    """What `pulumi up` would print for this stack file's `config:` (empty: it runs the program)."""
    name = project["name"]
    declared: dict[str, dict[str, Any]] = project.get("config") or {}
    values = {k.split(":", 1)[1]: v for k, v in stack_config.items() if k.split(":", 1)[0] == name}
    missing = [k for k, d in declared.items() if k not in values and "default" not in d and "value" not in d]
    if missing:
        word = "value" if len(missing) == 1 else "values"
        return [f"Stack '{stack}' is missing configuration {word} {_format_missing(missing)}"]
    errors = []
    for key in sorted(declared):
        decl = declared[key]
        if key not in values or "type" not in decl:
            continue
        value = values[key]
        if decl.get("secret") and not (isinstance(value, dict) and "secure" in value):
            errors.append(f"Stack '{stack}' with configuration key '{key}' must be encrypted as it's secret")
        elif not _valid(decl, value):
            errors.append(f"Stack '{stack}' with configuration key '{key}' must be of type '{decl['type']}'")
    return errors
