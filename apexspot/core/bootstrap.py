"""The subject bootstrap every interval in the project comes from.

Items of one subject (clips, recordings) are not independent: one face, one session, one
coder. An interval therefore resamples subjects with replacement, each draw taking all of a
subject's items (a cluster bootstrap), with a fixed seed. Statistics that add up over items
(error sums and counts; true and false positives) are summed per subject once, then per
draw: `resampled_sums`. Two methods scored on the same draws give a paired difference.
"""

from __future__ import annotations

import numpy as np


def resampled_sums(per_subject: np.ndarray, resamples: int, seed: int) -> np.ndarray:
    """resamples x columns: the rows of `per_subject` (subjects x columns) summed over each
    draw of as many subjects as there are, with replacement (a subject drawn twice counts twice)."""
    per_subject = np.asarray(per_subject, np.float64)
    n = len(per_subject)
    draws = np.random.default_rng(seed).integers(0, n, size=(resamples, n))
    return per_subject[draws].sum(axis=1)


def interval(samples: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The central percentile interval of bootstrap samples."""
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(samples, [tail, 100 - tail])
    return float(low), float(high)
