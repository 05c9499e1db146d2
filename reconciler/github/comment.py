"""The one plan comment on a pull request: found by its hidden marker AND its author (the bot), so a
comment someone else writes with the marker is ignored; updated by later runs, never repeated.

It ends with a hidden data block: what apply on merge compares against (the plan hash, the digest
of the writes, the head and base it was computed for), the plan's changes (so a review event can
re-evaluate approvals without the registry) and whether the gates passed. With RECONCILER_PLAN_KEY
set, the block is signed (HMAC-SHA256): a maintainer who edits the bot's comment cannot change what
merge will accept.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import os
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.github.client import Client, Comment
from reconciler.masking import mask
from reconciler.plan.values import Change, change_from_json, digest

MARKER = "<!-- reconciler-plan -->"
APPLY_MARKER = "<!-- reconciler-apply -->"
DATA_RE = re.compile(r"<!-- reconciler-data: ([A-Za-z0-9_=-]+) -->")
SECTION = "<!-- reconciler:{name} -->\n{body}\n<!-- /reconciler:{name} -->"
DEFAULT_BOT = "github-actions[bot]"
KEY_ENV = "RECONCILER_PLAN_KEY"
DATA_VERSION = 1


class BadData(ValueError):
    """The bot's comment holds no readable, correctly signed data block."""


@dataclass(frozen=True)
class PlanData:
    plan_hash: str
    changes_digest: str
    head: str
    base: str
    gates_ok: bool
    changes: tuple[Change, ...] = ()
    changed: tuple[str, ...] = ()  # the paths the pull request changes (what the requirements are of)
    scope: tuple[str, ...] = ()  # the models planned (their files are in the pull request)

    def to_json(self) -> dict[str, Any]:
        return {
            "v": DATA_VERSION,
            "plan_hash": self.plan_hash,
            "changes_digest": self.changes_digest,
            "head": self.head,
            "base": self.base,
            "gates_ok": self.gates_ok,
            "changes": [c.to_json() for c in self.changes],
            "changed": list(self.changed),
            "scope": list(self.scope),
        }


def _key() -> bytes | None:
    key = os.environ.get(KEY_ENV)
    return key.encode() if key else None


def _signature(payload: dict[str, Any], key: bytes) -> str:
    return "hmac-sha256:" + hmac.new(key, digest(payload).encode(), "sha256").hexdigest()


def encode(data: PlanData) -> str:
    payload = data.to_json()
    key = _key()
    if key:
        payload["sig"] = _signature(payload, key)
    packed = zlib.compress(json.dumps(payload, separators=(",", ":")).encode(), 9)
    return f"<!-- reconciler-data: {base64.urlsafe_b64encode(packed).decode()} -->"


def decode(body: str) -> PlanData:
    found = DATA_RE.findall(body)
    if len(found) != 1:
        raise BadData("the plan comment has no data block" if not found else "the plan comment has two data blocks")
    try:
        payload = json.loads(zlib.decompress(base64.urlsafe_b64decode(found[0])))
    except (binascii.Error, zlib.error, ValueError) as e:
        raise BadData(f"the plan comment's data block is unreadable ({e})") from None
    if not isinstance(payload, dict) or payload.get("v") != DATA_VERSION:
        raise BadData("the plan comment's data block is of another version; re-run the pull request's check")
    _verify(payload)
    try:
        return PlanData(
            plan_hash=str(payload["plan_hash"]),
            changes_digest=str(payload["changes_digest"]),
            head=str(payload["head"]),
            base=str(payload["base"]),
            gates_ok=payload["gates_ok"] is True,
            changes=tuple(change_from_json(c) for c in payload["changes"]),
            changed=tuple(str(p) for p in payload["changed"]),
            scope=tuple(str(m) for m in payload["scope"]),
        )
    except (KeyError, TypeError, ValueError) as e:
        raise BadData(f"the plan comment's data block is incomplete ({type(e).__name__}: {e})") from None


def _verify(payload: dict[str, Any]) -> None:
    key, signature = _key(), payload.pop("sig", None)
    if key is None:
        if signature is not None:
            raise BadData(f"the plan comment is signed, but {KEY_ENV} is not set here; set it as in the check's job")
        return
    if not isinstance(signature, str) or not hmac.compare_digest(signature, _signature(payload, key)):
        raise BadData(
            f"the plan comment's data block is not signed with this {KEY_ENV} (edited, or made with another key)"
        )


def section(name: str, body: str) -> str:
    return SECTION.format(name=name, body=body.rstrip("\n"))


def read_section(body: str, name: str) -> str | None:
    start, end = f"<!-- reconciler:{name} -->\n", f"\n<!-- /reconciler:{name} -->"
    i = body.find(start)
    j = body.find(end, i + len(start)) if i >= 0 else -1
    return body[i + len(start) : j] if i >= 0 and j >= 0 else None


def mine(comments: Sequence[Comment], bot: str, marker: str = MARKER) -> list[Comment]:
    """The bot's comments with the marker as their first line, oldest first; any other author's are ignored."""
    return [c for c in comments if c.author.lower() == bot.lower() and c.body.startswith(marker)]


def upsert(client: Client, number: int, existing: Sequence[Comment], body: str) -> Comment:
    """Update the bot's plan comment, or create it; duplicates (a retried create) are deleted."""
    if not existing:
        return client.create_comment(number, body)
    keep, *extra = existing
    if keep.body != mask(body):  # GitHub holds the masked body (reconciler/github/client.py)
        client.update_comment(keep.id, body)
    for c in extra:
        client.delete_comment(c.id)
    return Comment(keep.id, keep.author, body)
