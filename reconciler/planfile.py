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
  itself produces (reconciler/api.py).
"""

from __future__ import annotations

import hmac
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reconciler import document
from reconciler.errors import DesiredStateError, PlanFileError
from reconciler.plan import Plan, change_from_json, note_from_json
from reconciler.state import Origin
from reconciler.yamltext import BAD_IN_TEXT, describe

FORMAT_VERSION = 2
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
    return json.dumps(to_json(plan), indent=2, ensure_ascii=False) + "\n"


def read(path: Path) -> Plan:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PlanFileError(f"{path}: no such plan file; make one with 'reconciler plan --out {path}'") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise PlanFileError(f"{path}: not a JSON plan ({e}); make one with 'reconciler plan --out'") from None
    except RecursionError:
        raise PlanFileError(
            f"{path}: not a JSON plan (nested too deeply); make one with 'reconciler plan --out'"
        ) from None
    return from_json(data, str(path))


def from_json(d: Any, source: str) -> Plan:
    version = d.get("format_version") if isinstance(d, Mapping) else None
    if version != FORMAT_VERSION:
        raise PlanFileError(
            f"{source}: plan format_version {version!r} is not {FORMAT_VERSION}; "
            "make the plan again with this version of reconciler"
        )
    unknown = sorted(set(d) - _KEYS)
    if unknown:
        raise PlanFileError(f"{source}: unknown key {unknown[0]!r} in the plan (was the file edited?); make it again")
    plan = _build(d, source)
    if d.get("plan_hash") != plan.plan_hash:
        raise PlanFileError(f"{source}: plan_hash does not match the plan (was the file edited?); make the plan again")
    if d.get("summary") != _summary(plan):  # outside the hash: it must say what the changes do
        raise PlanFileError(
            f"{source}: the plan's summary does not count its changes (was the file edited?); make the plan again"
        )
    _check_signature(d, plan.plan_hash, source)
    return plan


_KEYS = frozenset({"format_version", "plan_hash", "summary", "signature", *Plan(changes=()).body()})


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
    from reconciler.desired import check_document

    _check_strings(doc, source, "")
    check_document(doc, source)
    model = document.from_document(doc, Origin(source))
    document.check_semantics(model)
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
            _check_strings(v, source, f"{pointer}/{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_strings(v, source, f"{pointer}/{i}")


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
