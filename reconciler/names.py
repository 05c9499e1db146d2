"""Reserved names, the one home of each: what the reconciler keeps for itself in the registry and in models/."""

from __future__ import annotations

GITOPS_PREFIX = "gitops."  # registered models and tags in this namespace are the reconciler's own (lock, audit)
LOCK_MODEL = GITOPS_PREFIX + "lock"
RESERVED_MODELS = frozenset({LOCK_MODEL})
SETTINGS_PREFIX = "_"  # models/_policy.yaml and the like: repository settings, never model files
POLICY_FILE = SETTINGS_PREFIX + "policy.yaml"  # the review policy (reconciler/governance/policy.py)


def reserved_model(name: str) -> bool:
    """A registered model the reconciler keeps for itself (its lock): never read as a model, planned or reported."""
    return name in RESERVED_MODELS
