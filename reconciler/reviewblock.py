"""A model file's `review:` block as typed values: what may only tighten the repository's review
policy (models/_policy.yaml). reconciler/files/review.py builds them from a file and back;
reconciler/governance/ judges pull requests with them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from reconciler.stage import Stage


class GateRule(str, Enum):
    """How a metric gate judges a candidate version's training-run metric."""

    AT_LEAST = "at_least"
    AT_MOST = "at_most"
    NO_WORSE_THAN_CURRENT_BY = "no_worse_than_current_by"


@dataclass(frozen=True)
class Gate:
    """`accuracy >= 0.9`, `rmse <= 12.5`, or `accuracy no worse than the current holder by 0.01`."""

    metric: str
    rule: GateRule
    value: float
    lower_is_better: bool = False  # only for NO_WORSE_THAN_CURRENT_BY: a loss, where lower is better


@dataclass(frozen=True)
class TierTightening:
    """A model file's stricter settings for one review tier; None: the repository's."""

    approvals: int | None = None
    from_: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ReviewBlock:
    """A model file's `review:` block: it may only tighten the repository's review policy
    (models/_policy.yaml); reconciler/governance/policy.py checks that it does."""

    changes: TierTightening = TierTightening()
    protected: TierTightening = TierTightening()
    aliases: frozenset[str] = frozenset()  # protected in addition to the repository's
    stages: frozenset[Stage] = frozenset()
    gates: tuple[Gate, ...] = ()  # in addition to the repository's

    def is_empty(self) -> bool:
        return self == ReviewBlock()
