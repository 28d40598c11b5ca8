"""Where the apex falls in the onset-offset window, fitted on the training folds only.

The clip spotter adds its log to the per-frame evidence; evaluation also reports its median
as the `prior` predictor: what a clip model would answer if its evidence were flat.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from apexspot.clips.manifest import Clip


@dataclass
class ApexPrior:
    """The apex's relative position r in [0, 1] of the window: a Beta(a, b) fitted by moments
    to the training clips, mixed with a little of the uniform so no frame is impossible
    (CASME II has apexes on the onset and on the offset)."""

    a: float = 1.0
    b: float = 1.0
    uniform: float = 0.1
    clips: int = 0

    @classmethod
    def fit(cls, clips: list[Clip], uniform: float = 0.1) -> "ApexPrior":
        r = np.array([(c.apex - c.onset) / (c.offset - c.onset) for c in clips], float)
        if r.size < 2:
            return cls(uniform=1.0, clips=int(r.size))
        r = np.clip(r, 0.01, 0.99)
        mean, var = float(r.mean()), max(float(r.var()), 1e-4)
        common = mean * (1 - mean) / var - 1
        if common <= 0:  # wider than any Beta: uniform
            return cls(uniform=1.0, clips=int(r.size))
        return cls(a=mean * common, b=(1 - mean) * common, uniform=uniform, clips=int(r.size))

    def log_prior(self, frames: int) -> np.ndarray:
        """log P(apex = frame t) for t = 0..frames-1 of a window of `frames` frames."""
        r = (np.arange(frames) + 0.5) / frames
        log_beta = ((self.a - 1) * np.log(r) + (self.b - 1) * np.log1p(-r)
                    - (math.lgamma(self.a) + math.lgamma(self.b) - math.lgamma(self.a + self.b)))
        density = (1 - self.uniform) * np.exp(log_beta) + self.uniform
        return np.log(density / density.sum()).astype(np.float32)

    def on_grid(self, frames: int, step: int) -> np.ndarray:
        """log prior of the frames 0, step, 2*step, ... of a window of `frames` frames."""
        p = np.exp(self.log_prior(frames)[::step])
        return np.log(p / p.sum()).astype(np.float32)

    def to_dict(self) -> dict[str, float]:
        return {"a": self.a, "b": self.b, "uniform": self.uniform, "clips": self.clips}
