"""GitHub's official OpenAPI description (api.github.com, from @octokit/openapi), per REST API version.

The document describes API version 2022-11-28 and lists, on each operation or schema it changes, the
`x-github-breaking-changes` of later versions as JSON merge patches. `document(version)` applies
those up to `version`. A property a version removes becomes `{"not": {}}` rather than disappearing,
so a response that still carries it (say `merge_commit_sha` to a 2026-03-10 client) fails validation
instead of passing as an "additional property".

Everything here is loaded once per process (`functools.cache`): the document is 13 MB and building
openapi-core's validator for it takes a second or two.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from .npm import ensure_node_modules

BASE_VERSION = "2022-11-28"
REMOVED = {"not": {}, "description": "removed in this REST API version"}


def _path() -> Any:
    return ensure_node_modules() / "@octokit" / "openapi" / "generated" / "api.github.com.json"


@cache
def _raw_bytes() -> bytes:
    return _path().read_bytes()


def base_document() -> dict[str, Any]:
    """The document as published (version 2022-11-28). Shared: do not modify it."""
    return _document_cached(BASE_VERSION)


@cache
def supported_versions() -> tuple[str, ...]:
    found: set[str] = set()
    _collect_versions(base_document(), found)
    return tuple(sorted({BASE_VERSION, *found}))


def document(version: str) -> dict[str, Any]:
    """The description of REST API `version` (one of `supported_versions()`). Shared: do not modify it."""
    if version not in supported_versions():
        raise ValueError(f"REST API version {version!r} is not described; known: {', '.join(supported_versions())}")
    return _document_cached(version)


@cache
def _document_cached(version: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(_raw_bytes())
    if version != BASE_VERSION:
        _apply_breaking_changes(doc, version)
    return doc


def _collect_versions(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        for change in node.get("x-github-breaking-changes") or ():
            found.add(change["version"])
        for value in node.values():
            _collect_versions(value, found)
    elif isinstance(node, list):
        for value in node:
            _collect_versions(value, found)


def _apply_breaking_changes(node: Any, version: str) -> None:
    if isinstance(node, dict):
        changes = node.get("x-github-breaking-changes") or ()
        for change in sorted(changes, key=lambda c: c["version"]):
            if change["version"] > version:
                continue
            if isinstance(change["patch"], list):
                _json_patch(node, change["patch"])
            else:
                _merge(node, change["patch"])
        for value in list(node.values()):
            _apply_breaking_changes(value, version)
    elif isinstance(node, list):
        for value in node:
            _apply_breaking_changes(value, version)


def _merge(target: dict[str, Any], patch: dict[str, Any]) -> None:
    """RFC 7386 merge patch, except that a removed property is kept as "must be absent"."""
    for key, value in patch.items():
        if key == "properties" and isinstance(value, dict):
            props = target.setdefault("properties", {})
            for name, sub in value.items():
                if sub is None:
                    props[name] = dict(REMOVED)
                    if name in target.get("required", []):
                        target["required"] = [r for r in target["required"] if r != name]
                elif isinstance(sub, dict) and isinstance(props.get(name), dict):
                    _merge(props[name], sub)
                else:
                    props[name] = sub
        elif value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


def _json_patch(target: dict[str, Any], ops: list[dict[str, Any]]) -> None:
    """RFC 6902 (remove, replace, add), except that a removed property is kept as "must be absent"."""
    for op in ops:
        *parents, last = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].split("/")[1:]]
        node: Any = target
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if op["op"] == "remove" and parents and parents[-1] == "properties":
            node[last] = dict(REMOVED)
        elif op["op"] == "remove":
            del node[int(last) if isinstance(node, list) else last]
        elif isinstance(node, list):
            node.insert(int(last), op["value"]) if op["op"] == "add" else node.__setitem__(int(last), op["value"])
        else:
            node[last] = op["value"]


def strip_removed(instance: Any, schema: Any, doc: dict[str, Any]) -> Any:
    """`instance` without the properties `schema` marks as removed in this version (in place; returned)."""
    while isinstance(schema, dict) and "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    if not isinstance(schema, dict):
        return instance
    for sub in schema.get("allOf", []) + schema.get("anyOf", []) + schema.get("oneOf", []):
        strip_removed(instance, sub, doc)
    if isinstance(instance, dict):
        for name, prop in (schema.get("properties") or {}).items():
            if name not in instance:
                continue
            if prop == REMOVED:
                del instance[name]
            else:
                strip_removed(instance[name], prop, doc)
    elif isinstance(instance, list) and "items" in schema:
        for item in instance:
            strip_removed(item, schema["items"], doc)
    return instance


def example(name: str) -> Any:
    """A fresh copy of `components/examples/<name>` (the value, with nothing shared)."""
    examples = json.loads(json.dumps(base_document()["components"]["examples"][name]["value"]))
    return examples


def webhook_schema_name(event: str, action: str | None) -> str:
    """The components/schemas entry describing a webhook payload (`pull_request` + `opened`)."""
    key = event.replace("_", "-") + (f"-{action.replace('_', '-')}" if action else "")
    hook = base_document()["x-webhooks"][key]["post"]
    ref: str = hook["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return ref.rsplit("/", 1)[-1]
