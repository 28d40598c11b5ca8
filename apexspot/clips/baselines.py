"""Training-free apex spotters, evaluated on the same clips as the model.

Each takes arrays (no files, no params), so it can be used on its own:

    centre(onset, offset)                        -> frame number
    max_flow_magnitude(u, v)                     -> index (0 = onset)
    max_strain_eyes_masked(u, v, eyes, radius)   -> index
    max_lbp_distance(frames)                     -> index
"""

from __future__ import annotations

import numpy as np

from apexspot.core.flow import strain


def centre(onset: int, offset: int) -> int:
    """The middle of the onset-offset window (rounded down): the baseline every number needs."""
    return (onset + offset) // 2


def max_flow_magnitude(u: np.ndarray, v: np.ndarray) -> int:
    """The frame whose flow (from onset, T x H x W) has the largest mean magnitude."""
    return int(np.argmax(np.hypot(u, v).mean(axis=(1, 2))))


def eye_mask(shape: tuple[int, int], eyes: np.ndarray, radius: float) -> np.ndarray:
    """True outside discs of `radius` around each eye centre (x, y)."""
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
    keep = np.ones(shape, bool)
    for x, y in np.asarray(eyes, float):
        keep &= np.hypot(xx - x, yy - y) > radius
    return keep


def max_strain_eyes_masked(u: np.ndarray, v: np.ndarray, eyes: np.ndarray, radius: float) -> int:
    """Liong et al. (2016): the frame of largest summed optical strain, eye regions masked.

    Strain (the symmetric gradient of the flow) responds to skin deforming, not to a face
    moving as a whole; masking the eyes keeps blinks out.
    """
    keep = eye_mask(u.shape[1:], eyes, radius)
    totals = [strain(np.stack([u[t], v[t]], -1))[keep].sum() for t in range(len(u))]
    return int(np.argmax(totals))


def lbp_histograms(frame: np.ndarray, grid: int = 6, points: int = 8, radius: int = 1) -> np.ndarray:
    """Uniform-LBP histograms of a grid x grid tiling of the face, concatenated."""
    from skimage.feature import local_binary_pattern

    codes = local_binary_pattern(frame, points, radius, method="uniform")
    bins = points + 2
    rows = np.array_split(np.arange(frame.shape[0]), grid)
    cols = np.array_split(np.arange(frame.shape[1]), grid)
    hists = [np.bincount(codes[r[0]:r[-1] + 1, c[0]:c[-1] + 1].astype(int).ravel(), minlength=bins)
             for r in rows for c in cols]
    return np.concatenate(hists).astype(np.float64)


def chi_squared(a: np.ndarray, b: np.ndarray) -> float:
    total = a + b
    nonzero = total > 0
    return float(np.sum((a - b)[nonzero] ** 2 / total[nonzero]))


def max_lbp_distance(frames: np.ndarray, grid: int = 6) -> int:
    """Yan et al. (2014) style: the frame whose block LBP histograms differ most from the onset's."""
    reference = lbp_histograms(frames[0], grid)
    return int(np.argmax([chi_squared(reference, lbp_histograms(f, grid)) for f in frames]))
