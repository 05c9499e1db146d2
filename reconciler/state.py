"""Typed desired and live state. Plain frozen values: no I/O, no MLflow."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType

# Tags in this namespace belong to the reconciler (its audit trail); they are never diffed.
AUDIT_NAMESPACE = "gitops."


class Stage(str, Enum):
    NONE = "None"
    STAGING = "Staging"
    PRODUCTION = "Production"
    ARCHIVED = "Archived"


_EMPTY: Mapping = MappingProxyType({})


def frozen_map(d: Mapping | None = None) -> Mapping:
    """A read-only copy with keys in sorted order (renders and fingerprints do not depend on input order)."""
    if not d:
        return _EMPTY  # most versions have no tags: 20,000 of them share one empty map
    return MappingProxyType(dict(sorted(d.items())))


def user_tags(tags: Mapping[str, str]) -> Mapping[str, str]:
    """Tags without the reconciler's own audit namespace."""
    return frozen_map({k: v for k, v in tags.items() if not k.startswith(AUDIT_NAMESPACE)})


@dataclass(frozen=True)
class Prune:
    tags: bool = False
    aliases: bool = False
    version_tags: bool = False


@dataclass(frozen=True)
class Policy:
    exclusive_stages: frozenset[Stage] = frozenset()
    keep_latest: int | None = None
    stage_aliases: Mapping[Stage, str] = field(default_factory=frozen_map)
    prune: Prune = Prune()


@dataclass(frozen=True)
class DesiredVersion:
    version: int
    stage: Stage | None = None  # None: leave the registry's stage alone
    description: str | None = None
    tags: Mapping[str, str] | None = None


@dataclass(frozen=True)
class DesiredModel:
    name: str
    source: str  # file the model came from, for messages
    description: str | None = None
    owners: tuple[str, ...] = ()
    tags: Mapping[str, str] | None = None
    aliases: Mapping[str, int] | None = None
    versions: Mapping[int, DesiredVersion] = field(default_factory=frozen_map)
    policy: Policy = Policy()

    def named_versions(self) -> frozenset[int]:
        return frozenset(self.versions) | frozenset((self.aliases or {}).values())


@dataclass(frozen=True)
class LiveVersion:
    version: int
    stage: Stage
    description: str
    tags: Mapping[str, str]
    run_id: str | None = None
    status: str = "READY"  # MLflow ModelVersionStatus: READY, PENDING_REGISTRATION, FAILED_REGISTRATION


@dataclass(frozen=True)
class LiveModel:
    name: str
    description: str
    tags: Mapping[str, str]
    aliases: Mapping[str, int]
    versions: Mapping[int, LiveVersion]


@dataclass(frozen=True)
class LiveState:
    """What the registry holds. `models` maps name -> model; names absent are not registered."""

    models: Mapping[str, LiveModel]
    run_status: Mapping[str, str] = field(default_factory=frozen_map)  # run_id -> RUNNING/FINISHED/FAILED/KILLED


def model_json(m: LiveModel) -> dict:
    """The parts of a live model the reconciler manages, as plain JSON (audit tags excluded)."""
    return {
        "description": m.description,
        "tags": dict(user_tags(m.tags)),
        "aliases": dict(sorted(m.aliases.items())),
        "versions": {
            str(n): {"stage": v.stage.value, "description": v.description, "tags": dict(user_tags(v.tags))}
            for n, v in sorted(m.versions.items())
        },
    }


def fingerprint(live: LiveState, names: Iterable[str]) -> str:
    """A hash of the live state of the named models; a saved plan is only valid while it holds."""
    body = {name: (model_json(live.models[name]) if name in live.models else None) for name in sorted(names)}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()
