"""Splitting version numbers into ranges of about equal size, so a registry's versions can be read
in a few concurrent searches. Pure."""

from __future__ import annotations

VERSION_PARTITIONS = 4  # concurrent version-range reads against an HTTP registry
VERSIONS_PER_PARTITION = 2_500  # below this many versions per range, one search is as fast


def version_ranges(latest: list[int], parts: int = 0) -> list[str | None]:
    """Filters splitting versions 1..max into ranges of about equal size (None: everything)."""
    parts = parts or VERSION_PARTITIONS
    total = sum(latest)
    if total < VERSIONS_PER_PARTITION or parts < 2:
        return [None]
    parts = min(parts, total // VERSIONS_PER_PARTITION)
    ordered = sorted(latest)
    bounds: list[int] = []
    count, below = 0, 0  # versions numbered <= k; models whose latest version is < k
    for k in range(1, ordered[-1] + 1):
        while ordered[below] < k:
            below += 1
        count += len(ordered) - below
        if len(bounds) < parts - 1 and count >= total * (len(bounds) + 1) / parts:
            bounds.append(k)
    edges = [0, *bounds]
    filters = [f"version_number > {a} AND version_number <= {b}" for a, b in zip(edges, bounds, strict=False)]
    return [*filters, f"version_number > {edges[-1]}"]
