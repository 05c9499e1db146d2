"""Smoke-test the pull request's candidates (candidates.py) one by one; a version that cannot be
downloaded or loaded fails with the reason, and the others are still tested."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from reconciler.errors import ReconcilerError, RegistryError
from reconciler.registry.target import Target
from reconciler.smoke.candidates import Candidate
from reconciler.smoke.result import Outcome, SmokeResult
from reconciler.smoke.run import Request, smoke

REQUIRED = "the review policy requires an input example (smoke.require_example)"


def run_all(
    found: Sequence[Candidate], target: Target, root: Path, require_example: bool = False
) -> tuple[SmokeResult, ...]:
    return tuple(_one(c, target, root, require_example) for c in found)


def _one(c: Candidate, target: Target, root: Path, require_example: bool) -> SmokeResult:
    if not c.settings.enabled:
        where = f" in {c.source}" if c.source else ""
        return SmokeResult(c.model, c.version, Outcome.SKIPPED, reasons=(f"opted out{where} (smoke: enabled: false)",))
    try:
        sample = sample_path(root, c.settings.sample) if c.settings.sample else None
        result = smoke(Request(c.model, c.version, sample, c.settings.latency_budget_ms), target)
    except RegistryError:
        raise  # the registry itself is unreachable or refuses us: the check cannot judge anything
    except ReconcilerError as e:
        return SmokeResult(c.model, c.version, Outcome.FAILED, c.settings.sample or "", reasons=(str(e),))
    if result.outcome is Outcome.NOT_TESTED and require_example:
        return SmokeResult(c.model, c.version, Outcome.FAILED, reasons=(f"{REQUIRED}; {result.reason()}",))
    return result


def sample_path(root: Path, sample: str) -> Path:
    """The declared sample, a regular file inside the repository (no link, no `..`)."""
    base = root.resolve()
    path = base / sample
    if path.is_symlink() or not path.resolve().is_relative_to(base) or not path.is_file():
        raise ReconcilerError(
            f"smoke sample {sample!r} is not a regular file in the repository; commit it, relative to the root"
        )
    return path
