"""Typed desired and live state. Plain frozen values: no I/O, no MLflow.

The values of managed fields live in `values`, keyed by the field's file key and typed by its
declaration (reconciler/fields/); everything else here is identity and policy. A model file's
`review:` block is typed in reconciler/reviewblock.py, what governance/ judges it by.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Any

from reconciler.names import GITOPS_PREFIX
from reconciler.reviewblock import ReviewBlock
from reconciler.stage import Stage

_NO_STAGE = Stage.NONE  # a plain name: on Python 3.11 `Stage.NONE` is a descriptor call, per version

__all__ = [
    "AUDIT_NAMESPACE",
    "DesiredModel",
    "DesiredVersion",
    "LiveModel",
    "LiveState",
    "LiveVersion",
    "Origin",
    "Policy",
    "Prune",
    "ReviewBlock",
    "Run",
    "Stage",
    "frozen_map",
]

# Tags in this namespace belong to the reconciler (its audit trail); they are never diffed.
AUDIT_NAMESPACE = GITOPS_PREFIX


_EMPTY: Mapping = MappingProxyType({})


def frozen_map(d: Mapping | None = None) -> Mapping:
    """A read-only copy with keys in sorted order (renders and fingerprints do not depend on input order)."""
    if not d:
        return _EMPTY  # most versions have no tags: 20,000 of them share one empty map
    return MappingProxyType(dict(sorted(d.items())))


@dataclass(frozen=True)
class Origin:
    """Where a desired model came from, for messages: `at("versions", "3")` -> "models/m.yaml:14"."""

    source: str
    line_of: Callable[[tuple[Any, ...]], int | None] | None = field(default=None, compare=False, repr=False)

    def at(self, *path: Any) -> str:
        line = self.line_of(tuple(path)) if self.line_of else None
        return f"{self.source}:{line}" if line else self.source


@dataclass(frozen=True)
class Prune:
    flags: frozenset[str] = frozenset()  # field prune flags the file opted in to ("tags", "aliases", ...)

    def __contains__(self, flag: object) -> bool:
        return flag in self.flags


@dataclass(frozen=True)
class Policy:
    exclusive_stages: frozenset[Stage] = frozenset()
    keep_latest: int | None = None
    stage_aliases: Mapping[Stage, str] = field(default_factory=frozen_map)
    prune: Prune = Prune()


@dataclass(frozen=True)
class SmokeSettings:
    """A model file's `smoke:` section: the smoke test a version must pass before it gains a
    protected alias or stage (reconciler/smoke/). On unless the file opts out."""

    enabled: bool = True
    sample: str | None = None  # a scoring-server JSON payload, relative to the repository root
    latency_budget_ms: float | None = None


class HealthRule(str, Enum):
    AT_LEAST = "at_least"
    AT_MOST = "at_most"
    NO_WORSE_THAN_REPLACED_BY = "no_worse_than_replaced_by"  # than the version the served one replaced


@dataclass(frozen=True)
class Threshold:
    """One production metric's rule (reconciler/monitoring/)."""

    metric: str
    rule: HealthRule
    value: float
    lower_is_better: bool = False  # only for NO_WORSE_THAN_REPLACED_BY


@dataclass(frozen=True)
class Monitoring:
    """A model file's `monitoring:` section: the served version's production metrics over a window
    (the last `window_hours` hours, or the last `window_runs` runs) against thresholds."""

    alias: str
    thresholds: tuple[Threshold, ...]
    window_hours: float | None = None
    window_runs: int | None = None
    min_samples: int = 1
    rollback: bool = False  # `reconciler github propose-rollback` may propose moving the alias back


@dataclass(frozen=True)
class DesiredVersion:
    number: int
    values: Mapping[str, Any] = field(default_factory=frozen_map)  # only what the file sets

    @property
    def stage(self) -> Stage | None:
        return self.values.get("stage")


@dataclass(frozen=True)
class DesiredModel:
    name: str
    origin: Origin
    values: Mapping[str, Any] = field(default_factory=frozen_map)  # only what the file sets
    versions: Mapping[int, DesiredVersion] = field(default_factory=frozen_map)
    owners: tuple[str, ...] = ()
    policy: Policy = Policy()
    review: ReviewBlock = field(default_factory=ReviewBlock)
    smoke: SmokeSettings = field(default_factory=SmokeSettings)
    monitoring: Monitoring | None = None

    @property
    def source(self) -> str:
        return self.origin.source

    @property
    def aliases(self) -> Mapping[str, int] | None:
        return self.values.get("aliases")

    def named_versions(self) -> frozenset[int]:
        return frozenset(self.versions) | frozenset((self.aliases or {}).values())


@dataclass(frozen=True)
class LiveVersion:
    number: int
    values: Mapping[str, Any]
    reserved_tags: Mapping[str, str] = field(default_factory=frozen_map)  # gitops.* (the audit record)
    run_id: str | None = None
    status: str = "READY"  # MLflow ModelVersionStatus: READY, PENDING_REGISTRATION, FAILED_REGISTRATION

    @property
    def stage(self) -> Stage:
        return self.values.get("stage", _NO_STAGE)


@dataclass(frozen=True)
class LiveModel:
    name: str
    values: Mapping[str, Any]
    versions: Mapping[int, LiveVersion] = field(default_factory=frozen_map)
    reserved_tags: Mapping[str, str] = field(default_factory=frozen_map)

    @property
    def aliases(self) -> Mapping[str, int]:
        return self.values.get("aliases", _EMPTY)


@dataclass(frozen=True)
class Run:
    """What a plan needs of a version's training run: its status, and its metrics for gates."""

    status: str  # RUNNING, SCHEDULED, FINISHED, FAILED, KILLED
    metrics: Mapping[str, float] = field(default_factory=frozen_map)
    deleted: bool = False  # in the tracking server's trash (lifecycle_stage "deleted"; `mlflow gc` removes it)


@dataclass(frozen=True)
class LiveState:
    """What the registry holds. `models` maps name -> model; names absent are not registered."""

    models: Mapping[str, LiveModel]
    runs: Mapping[str, Run] = field(default_factory=frozen_map)  # run_id -> run, for the versions a plan promotes
    context: Mapping[str, Any] = field(default_factory=frozen_map)  # field name -> what its verify() needs
