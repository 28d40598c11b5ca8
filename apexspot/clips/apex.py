"""Per-frame scores to one apex frame."""

from __future__ import annotations

import numpy as np

METHODS = ("argmax", "window", "median")


def apex_index(scores: np.ndarray, method: str = "argmax", window: int = 9) -> int:
    """Index (0 = onset) of the apex in a clip's per-frame scores.

    `argmax`: the best frame; ties go to the first. `median`: the median frame of the
    scores taken as a distribution. `window`: the centre of the width-
    `window` run of frames with the highest mean score (ties: the first run), which
    ignores a single spiky frame. Runs never leave the clip; a clip shorter than the window
    is one run, and its centre is returned. An even-width run's centre is its left middle.
    """
    scores = np.asarray(scores, dtype=np.float64).ravel()
    if scores.size == 0:
        raise ValueError("no scores: the clip has no frames")
    if not np.all(np.isfinite(scores)):
        raise ValueError("scores contain NaN or infinity")
    if method == "argmax":
        return int(np.argmax(scores))
    if method == "median":
        # Scores read as a distribution over frames (a clip model's posterior; negative
        # regression outputs count as 0): its median minimises the expected absolute error.
        weights = np.clip(scores, 0, None)
        if weights.sum() <= 0:
            return int(np.argmax(scores))
        return int(np.searchsorted(np.cumsum(weights) / weights.sum(), 0.5))
    if method != "window":
        raise ValueError(f"spotting method must be one of {', '.join(METHODS)}, not {method!r}")
    if window < 1:
        raise ValueError("window must be at least 1 frame")
    width = min(window, scores.size)
    sums = np.convolve(scores, np.ones(width), mode="valid")
    start = int(np.argmax(sums))
    return start + (width - 1) // 2
