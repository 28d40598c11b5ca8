"""Continuous per-frame targets ("continuous labelling", Min & Zulkifley 2022).

A frame's target says how far the expression has come: 0 at onset, 1 at apex, 0 at
offset. Regressing this curve instead of a one-hot apex gives every frame a useful target
and makes the apex the peak of a smooth score.
"""

from __future__ import annotations

import numpy as np

SHAPES = ("linear", "exponential")


def continuous_labels(onset: int, apex: int, offset: int, shape: str = "linear",
                      sharpness: float = 3.0) -> np.ndarray:
    """Targets for frames onset..offset (inclusive), peak 1 at apex.

    `exponential` bends each side as (e^(s*r) - 1) / (e^s - 1) of the linear ramp r, so the
    target stays low until close to the apex: a sharper peak for the same window.
    Apex on the onset (or offset) gives a falling (or rising) ramp only.
    """
    if shape not in SHAPES:
        raise ValueError(f"label shape must be one of {', '.join(SHAPES)}, not {shape!r}")
    if not onset <= apex <= offset or onset == offset:
        raise ValueError(f"need onset <= apex <= offset and onset < offset, got {onset}, {apex}, {offset}")
    frames = np.arange(onset, offset + 1, dtype=np.float64)
    rise = (frames - onset) / (apex - onset) if apex > onset else np.zeros_like(frames)
    fall = (offset - frames) / (offset - apex) if offset > apex else np.zeros_like(frames)
    ramp = np.where(frames <= apex, rise, fall)
    ramp[frames == apex] = 1.0
    if shape == "exponential":
        ramp = np.expm1(sharpness * ramp) / np.expm1(sharpness)
    return ramp.astype(np.float32)
