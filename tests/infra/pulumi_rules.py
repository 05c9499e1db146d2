"""Pulumi's rules that the mocks do not apply, mirrored: the CLI's check of a stack's config against
the project's declared config, and pulumi-kubernetes' await logic (below).

Before the program runs, `pulumi up` merges the stack file with Pulumi.yaml's `config:` and refuses
the stack when (pulumi/pulumi, sdk/go/common/workspace/config.go: ValidateStackConfigAndApplyProjectConfig
-> mergeConfig -> validateStackConfigValues and missingStackConfigurationKeysError, read in the
stored copy of project.go's tree at 73a66f48; the cases of project_test.go at fd2f0554 are in
tests/infra/test_pulumi_config_check.py):
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
        encrypted = isinstance(value, dict) and "secure" in value
        if decl.get("secret") and not encrypted:
            errors.append(f"Stack '{stack}' with configuration key '{key}' must be encrypted as it's secret")
        elif not encrypted and not _valid(decl, value):  # (the CLI type-checks a secret once decrypted)
            errors.append(f"Stack '{stack}' with configuration key '{key}' must be of type '{decl['type']}'")
    return errors


# --- pulumi-kubernetes' await logic ---------------------------------------------------------------
# pulumi/pulumi-kubernetes at 94977969 (provider v4):
# - provider/pkg/metadata/overrides.go TimeoutDuration: the resource's customTimeouts (seconds, from
#   the engine) first, else the `pulumi.com/timeoutSeconds` annotation (an integer; invalid: unset);
# - provider/pkg/await/awaiters.go getTimeout with await/job.go DefaultJobTimeoutMins = 10 (Jobs),
#   await/deployment.go DefaultDeploymentTimeoutMins = 10; await.go Creation: 10 minutes for a
#   resource awaited through `pulumi.com/waitFor`;
# - provider/pkg/provider/provider.go Diff: with `pulumi.com/replaceUnready: "true"` a Job whose live
#   state is not Ready (checker/job: .status.startTime set and a Complete condition True) is replaced;
# - provider/pkg/metadata/overrides.go ReadyCondition and provider/pkg/jsonpath/jsonpath.go Parse:
#   `pulumi.com/waitFor` is one expression or a JSON array of them, each "jsonpath=" or "condition=".

DEFAULT_AWAIT_MINUTES = {"Job": 10, "Deployment": 10, "StatefulSet": 10, "waitFor": 10}
_DURATION = re.compile(r"(\d+)(h|m|s)")


def go_duration_seconds(text: str) -> float:
    """time.ParseDuration for the units customTimeouts strings use here ("70m", "1h30m")."""
    if not text:
        return 0
    if not re.fullmatch(rf"(?:{_DURATION.pattern})+", text):
        raise ValueError(f"time: invalid duration {text!r}")
    factor = {"h": 3600, "m": 60, "s": 1}
    return sum(int(n) * factor[u] for n, u in _DURATION.findall(text))


def timeout_duration(custom_timeout_seconds: float, annotations: dict[str, str]) -> float | None:
    if custom_timeout_seconds:
        return custom_timeout_seconds
    value = annotations.get("pulumi.com/timeoutSeconds", "")
    return float(int(value)) if re.fullmatch(r"[+-]?\d+", value) else None


def await_seconds(kind: str, custom_timeout: str, annotations: dict[str, str]) -> float:
    given = timeout_duration(go_duration_seconds(custom_timeout), annotations)
    default = DEFAULT_AWAIT_MINUTES["waitFor" if "pulumi.com/waitFor" in annotations else kind]
    return given if given is not None else default * 60


def job_ready(status: dict[str, Any]) -> bool:
    complete = [c for c in status.get("conditions", []) if c["type"] == "Complete" and c["status"] == "True"]
    return bool(status.get("startTime")) and bool(complete)


def replace_unready_replaces(annotations: dict[str, str], live_status: dict[str, Any]) -> bool:
    return annotations.get("pulumi.com/replaceUnready") == "true" and not job_ready(live_status)


class WaitForError(ValueError):
    pass


def parse_jsonpath(raw: str) -> tuple[str, str]:
    """jsonpath.Parse: (path inside the brackets, the value to equal, "" for any)."""
    if raw == "":
        raise WaitForError("expected a non-empty JSONPath expression")
    if not raw.startswith("jsonpath="):
        raise WaitForError("JSONPath expression must begin with a 'jsonpath=' prefix")
    raw = raw.removeprefix("jsonpath=")
    parts = raw.replace("==", "\0").split("=")
    if len(parts) > 2:
        raise WaitForError(f"format should be {{.path}}=value or {{.path}}, got {raw!r}")
    path = parts[0].replace("\0", "==")
    value = parts[1].replace("\0", "==") if len(parts) == 2 else ""
    if len(parts) == 2 and value == "":
        raise WaitForError(f"{path}= requires a value")
    if path.startswith("'") and path.endswith("'"):
        raise WaitForError(f"{path} should omit shell quotes")
    inner = re.search(r"\{\s*(.*?)\s*\}", path)
    if inner is None:
        raise WaitForError(f"{path} should be wrapped in brackets {{ ... }}")
    return inner.group(1).removeprefix("$"), value


def parse_wait_for(annotation: str) -> list[str]:
    try:
        values = json.loads(annotation)
    except ValueError:
        values = [annotation]
    if not isinstance(values, list):
        values = [annotation]
    if not values:
        raise WaitForError("at least one condition must be specified")
    for expr in values:
        if expr.startswith("jsonpath="):
            parse_jsonpath(expr)
        elif not expr.startswith("condition="):
            raise WaitForError(f'expected a "jsonpath=" or "condition=" prefix, got {expr!r}')
    return values


def wait_for_satisfied(annotation: str, obj: dict[str, Any]) -> bool:
    """Whether `obj` satisfies every expression (dotted paths only; condition=TYPE: status True)."""
    for expr in parse_wait_for(annotation):
        if expr.startswith("condition="):
            kind = expr.removeprefix("condition=")
            conditions = obj.get("status", {}).get("conditions", [])
            if not any(c["type"] == kind and c["status"] == "True" for c in conditions):
                return False
            continue
        path, value = parse_jsonpath(expr)
        if not re.fullmatch(r"(\.[A-Za-z0-9_-]+)+", path):
            raise WaitForError(f"{path}: only dotted paths are mirrored")
        found: Any = obj
        for key in path.strip(".").split("."):
            found = found.get(key) if isinstance(found, dict) else None
        if found is None:
            return False  # "selected nothing"
        text = str(found).lower() if isinstance(found, bool) else str(found)  # Go's fmt.Sprint
        if value and text != value:
            return False
    return True
