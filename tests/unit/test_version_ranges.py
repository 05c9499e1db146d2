"""Version-range partitions cover every version number exactly once, whatever the registry's shape."""

from __future__ import annotations

import random
import re

import pytest

from reconciler.registry.ranges import version_ranges


def intervals(filters: list[str | None]) -> list[tuple[int, float]]:
    out = []
    for f in filters:
        if f is None:
            out.append((0, float("inf")))
            continue
        low = int(re.search(r"version_number > (\d+)", f).group(1))
        high = re.search(r"version_number <= (\d+)", f)
        out.append((low, int(high.group(1)) if high else float("inf")))
    return out


@pytest.mark.parametrize("seed", range(25))
def test_ranges_cover_each_version_once(seed):
    rng = random.Random(seed)
    latest = [rng.choice([0, 1, 2, 20, 300, 5000]) for _ in range(rng.randint(1, 2000))]
    spans = intervals(version_ranges(latest))
    for version in [*range(1, max(latest) + 1, max(1, max(latest) // 500)), max(latest) + 7]:  # + one registered later
        assert sum(1 for low, high in spans if low < version <= high) == 1


def test_small_registries_use_one_search():
    assert version_ranges([20] * 10) == [None]
    assert version_ranges([]) == [None]


def test_even_registry_splits_evenly():
    assert intervals(version_ranges([20] * 1000)) == [(0, 5), (5, 10), (10, 15), (15, float("inf"))]
