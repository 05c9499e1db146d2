"""A saved plan's file: versioned JSON, hashed as a whole, optionally signed.

What each check protects against:
- `plan_hash` covers everything in the plan (registry, scope, live fingerprint, desired state,
  changes, notes): an edit by hand or by a broken tool is refused. It is not a secret, so someone
  who edits the file on purpose can recompute it.
- `signature` (HMAC-SHA256 of the hash with RECONCILER_PLAN_KEY): set that key, as a CI secret, in
  the job that plans and the job that applies, and a plan edited in between, even with its hash
  recomputed, is refused. With the key set, unsigned plans are refused too.
- On apply, the desired state inside the plan is validated like a models/ file, the registry is
  compared with the one the plan names, and the plan is computed again from its desired state and
  the live registry: it must come out identical, so every change applied is one the planner
  itself produces (reconciler/engine.py).
"""

from __future__ import annotations

import hmac
import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reconciler.atomic import Unreadable, read_regular
from reconciler.errors import DesiredStateError, PlanFileError
from reconciler.files import convert
from reconciler.files.yamltext import BAD_IN_TEXT, describe
from reconciler.plan.values import Plan, change_from_json, note_from_json
from reconciler.pointer import child
from reconciler.pointer import pointer as json_pointer
from reconciler.state import Origin
from reconciler.text import json_text

FORMAT_VERSION = 2
# The largest registry measured (1,000 models x 20 versions, bench/RESULTS.md) with every file's
# description, tags, stages and aliases still to apply makes a plan of 28.3 MiB (97,145 changes);
# one model of 50,000 versions archived by keep_latest, 12.0 MiB. Twice the first, rounded up.
# Reading and checking takes about 0.15 s a MiB for such a plan (the 28.3 MiB one in 4.2 s) and
# at most about 3 s a MiB for the costliest shape measured (20,000 minimal model documents), so
# time is bounded by the size too. `plan --out` refuses to save a plan over it.
MAX_PLAN_BYTES = 64 * 2**20
MAX_INT_DIGITS = 20  # version numbers and counts: MLflow stores them in 64-bit integers (19 digits)
MAX_DEPTH = 64  # a model file nests at most 32 levels (reconciler/files/yamlstrict.py); a plan adds 3
KEY_ENV = "RECONCILER_PLAN_KEY"


def _key() -> bytes | None:
    key = os.environ.get(KEY_ENV)
    return key.encode() if key else None


def sign(plan_hash: str, key: bytes) -> str:
    return "hmac-sha256:" + hmac.new(key, plan_hash.encode(), "sha256").hexdigest()


def to_json(plan: Plan) -> dict[str, Any]:
    body = plan.body()
    data: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "plan_hash": plan.plan_hash,
        "summary": _summary(plan),
        **body,
    }
    key = _key()
    if key:
        data["signature"] = sign(data["plan_hash"], key)
    return data


def text(plan: Plan) -> str:
    return json_text(to_json(plan), indent=2) + "\n"


def saved_text(plan: Plan, path: Path) -> str:
    """The plan's file text, or a PlanFileError when `apply` would refuse a file that large."""
    saved = text(plan)
    size = len(saved.encode())
    if size > MAX_PLAN_BYTES:
        raise PlanFileError(
            f"{path}: the plan would be {size / 2**20:.1f} MiB, over the {MAX_PLAN_BYTES // 2**20} MiB that "
            "'reconciler apply' reads; plan the models in smaller groups (--models-dir with a subset of the files)"
        )
    return saved


def read(path: Path) -> Plan:
    """The saved plan in `path`: a regular file of at most MAX_PLAN_BYTES, read whole and parsed
    strictly, or a one-line PlanFileError saying what to do."""
    if str(path) == "-":
        raise PlanFileError(
            "'-': a saved plan is read from a file, not standard input; save it with "
            "'reconciler plan --out plan.json' and apply that file (a file named '-' is ./-)"
        )
    return from_json(parse(_read_bounded(path), str(path)), str(path))


def _read_bounded(path: Path) -> bytes:
    try:
        return read_regular(path, MAX_PLAN_BYTES)
    except FileNotFoundError:
        raise PlanFileError(f"{path}: no such plan file; make one with 'reconciler plan --out {path}'") from None
    except Unreadable as e:
        if e.kind is not None:
            raise PlanFileError(
                f"{path}: is {e.kind}, not a plan file; give the file 'reconciler plan --out FILE' wrote"
            ) from None
        if e.too_big:
            raise PlanFileError(
                f"{path}: over {MAX_PLAN_BYTES // 2**20} MiB, far more than a plan of the largest registry takes; "
                "it is not a saved plan: make one with 'reconciler plan --out FILE'"
            ) from None
        raise PlanFileError(
            f"{path}: cannot read the plan ({e.strerror}); check the path and its permissions"
        ) from None


class _BadNumber(ValueError):
    pass


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _BadNumber(f"an integer of {len(text.lstrip('-')):,} digits")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _BadNumber(f"the number {text[:40]} (out of range)")
    return value


def _constant(text: str) -> Any:
    raise _BadNumber(f"{text}, which is not JSON")


def parse(raw: bytes, source: str) -> Any:
    """Strict JSON: UTF-8, no NaN or Infinity, integers of at most MAX_INT_DIGITS digits, finite
    numbers, nesting of at most MAX_DEPTH levels. Every failure is a one-line PlanFileError."""
    again = "make one with 'reconciler plan --out FILE'"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise PlanFileError(f"{source}: not a JSON plan (not UTF-8 at byte offset {e.start}); {again}") from None
    try:
        data = json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_constant, object_pairs_hook=_object)
    except _BadNumber as e:
        raise PlanFileError(f"{source}: not a plan this reconciler wrote: it holds {e}; {again}") from None
    except json.JSONDecodeError as e:
        raise PlanFileError(f"{source}: not a JSON plan (line {e.lineno} column {e.colno}: {e.msg}); {again}") from None
    except RecursionError:
        raise PlanFileError(f"{source}: not a JSON plan (nested too deeply); {again}") from None
    if _depth(data) > MAX_DEPTH:
        raise PlanFileError(f"{source}: not a plan this reconciler wrote: nested over {MAX_DEPTH} levels; {again}")
    twice = _duplicate(data)
    if twice is not None:
        raise PlanFileError(
            f"{source}#{json_pointer(twice)}: the key is in its object twice (was the file edited?); {again}"
        )
    return data


class _Twice(dict[str, Any]):
    """An object that holds a key twice: json.loads keeps the last value silently (a `"changes": []`
    put before the real one, a second `format_version`), so the reader refuses it."""

    key: str


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    d: dict[str, Any] = {}
    for key, value in pairs:
        if key in d and not isinstance(d, _Twice):
            d = _Twice(d)
            d.key = key
        d[key] = value
    return d


def _duplicate(value: Any) -> list[object] | None:
    """The path of the first key held twice, in document order, without recursion."""
    stack: list[tuple[Any, list[object]]] = [(value, [])]
    while stack:
        v, steps = stack.pop()
        if isinstance(v, _Twice):
            return [*steps, v.key]
        if isinstance(v, dict):
            stack += [(x, [*steps, k]) for k, x in reversed(v.items())]
        elif isinstance(v, list):
            stack += [(x, [*steps, i]) for i, x in reversed(list(enumerate(v)))]
    return None


def _depth(value: Any) -> int:
    """How deeply `value` nests, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict):
            stack += [(x, d + 1) for x in v.values()]
        elif isinstance(v, list):
            stack += [(x, d + 1) for x in v]
        else:
            continue
        deepest = max(deepest, d)
    return deepest


def from_json(d: Any, source: str) -> Plan:
    _check_top_level(d, source)
    plan = _build(d, source)
    if d.get("plan_hash") != plan.plan_hash:
        raise PlanFileError(f"{source}: plan_hash does not match the plan (was the file edited?); make the plan again")
    if d.get("summary") != _summary(plan):  # outside the hash: it must say what the changes do
        raise PlanFileError(
            f"{source}: the plan's summary does not count its changes (was the file edited?); make the plan again"
        )
    _check_signature(d, plan.plan_hash, source)
    return plan


def _check_top_level(d: Any, source: str) -> None:
    """An object with exactly the integer format_version this reconciler writes, only known keys,
    and each of them of its type."""
    again = "make the plan again with this version of reconciler"
    if not isinstance(d, dict):
        raise PlanFileError(f"{source}: a saved plan is a JSON object, not {_kind(d)}; {again}")
    if "format_version" not in d:
        raise PlanFileError(f"{source}: the plan has no format_version (is it a saved plan?); {again}")
    version = d["format_version"]
    if type(version) is not int or version != FORMAT_VERSION:
        raise PlanFileError(
            f"{source}: plan format_version {json.dumps(version)} is not {FORMAT_VERSION} (an integer); {again}"
        )
    unknown = sorted(set(d) - set(_TYPES))
    if unknown:
        raise PlanFileError(f"{source}: unknown key {unknown[0]!r} in the plan (was the file edited?); make it again")
    for key, kind in _TYPES.items():
        if key not in d:
            if key != "signature":
                raise PlanFileError(f"{source}: the plan has no {key!r} (was the file edited?); make it again")
        elif type(d[key]) is not kind:
            raise PlanFileError(
                f"{source}#/{key}: {_kind(d[key])}, where a plan has {_kind(kind())} (was the file edited?); "
                "make it again"
            )


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    return {dict: "an object", list: "an array", str: "a string", int: "an integer", float: "a number"}.get(
        type(value), "null"
    )


_TYPES: dict[str, type] = {  # every top-level key and its JSON type; only `signature` may be missing
    "format_version": int,
    "plan_hash": str,
    "summary": dict,
    "signature": str,
    **{k: type(v) for k, v in Plan(changes=()).body().items()},
}


def _summary(plan: Plan) -> dict[str, int]:
    return {a.value: n for a, n in plan.counts().items()}


def _build(d: Mapping[str, Any], source: str) -> Plan:
    try:
        return Plan(
            changes=tuple(change_from_json(c) for c in d["changes"]),
            notes=tuple(note_from_json(n) for n in d["notes"]),
            live_fingerprint=str(d["live_fingerprint"]),
            scope=tuple(str(s) for s in d["scope"]),
            desired=tuple(_desired(doc, f"{source}#/desired/{i}") for i, doc in enumerate(d["desired"])),
            registry=str(d["registry"]),
        )
    except DesiredStateError as e:
        raise PlanFileError(f"{e}; the plan's desired state is not valid: make the plan again") from None
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise PlanFileError(f"{source}: not a valid plan ({type(e).__name__}: {e}); make it again") from None


def _desired(doc: Any, source: str) -> Any:
    from reconciler.files.desired import check_document

    _check_strings(doc, source, "")
    check_document(doc, source)
    model = convert.from_document(doc, Origin(source))
    convert.check_semantics(model)
    return model


def _check_strings(value: Any, source: str, pointer: str) -> None:
    """The characters a models/ file may not hold (controls, bidirectional controls, ...) are
    refused in the plan's desired state too: the YAML reader checks a file's text, JSON has none."""
    if isinstance(value, str):
        bad = BAD_IN_TEXT.search(value)
        if bad:
            raise DesiredStateError(f"{source}{pointer}: {describe(bad.group())} is not allowed")
    elif isinstance(value, Mapping):
        for k, v in value.items():
            _check_strings(k, source, pointer)
            _check_strings(v, source, child(pointer, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_strings(v, source, child(pointer, i))


def _check_signature(d: Mapping[str, Any], plan_hash: str, source: str) -> None:
    key, signature = _key(), d.get("signature")
    if key is None:
        if signature is not None:
            raise PlanFileError(
                f"{source}: the plan is signed, but {KEY_ENV} is not set here; set it to the key the plan "
                "was made with so the signature can be checked"
            )
        return
    if not isinstance(signature, str):
        raise PlanFileError(f"{source}: the plan is not signed, and {KEY_ENV} is set; make it with the key set")
    if not hmac.compare_digest(signature, sign(plan_hash, key)):
        raise PlanFileError(
            f"{source}: the plan's signature does not match (edited after it was made, or signed with another "
            f"{KEY_ENV}); make the plan again"
        )
