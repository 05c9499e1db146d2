"""Per-feature drift of production inputs against the training data: the population stability
index (quantile bins of the reference) and scipy's two-sample Kolmogorov-Smirnov test. Pure."""

from __future__ import annotations

import numpy as np
from scipy.stats import ks_2samp

BINS = 10
EPS = 1e-6  # an empty bin's share, so that log() stays finite


def psi(reference: np.ndarray, current: np.ndarray, bins: int = BINS) -> float:
    """sum((c - r) * ln(c / r)) over the reference's quantile bins; 0 means the same distribution,
    above 0.2 is usually read as a large shift."""
    ref = _finite(reference)
    cur = _finite(current)
    if ref.size == 0 or cur.size == 0:
        return float("nan")
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1)))
    if edges.size < 2:  # a constant reference: one bin for its value, one for anything else
        same = np.isclose(cur, edges[0])
        r, c = np.array([1.0, 0.0]), np.array([same.mean(), 1 - same.mean()])
    else:
        edges[0], edges[-1] = -np.inf, np.inf
        r = np.histogram(ref, edges)[0] / ref.size
        c = np.histogram(cur, edges)[0] / cur.size
    r, c = np.clip(r, EPS, None), np.clip(c, EPS, None)
    return float(np.sum((c - r) * np.log(c / r)))


def ks(reference: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    """(statistic, p-value) of scipy.stats.ks_2samp."""
    ref, cur = _finite(reference), _finite(current)
    if ref.size == 0 or cur.size == 0:
        return float("nan"), float("nan")
    result = ks_2samp(ref, cur)
    return float(result.statistic), float(result.pvalue)


def _finite(values: np.ndarray) -> np.ndarray:
    a = np.asarray(values, dtype=float).ravel()
    return a[np.isfinite(a)]
