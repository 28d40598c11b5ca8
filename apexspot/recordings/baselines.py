"""A training-free spotter to beat: flow-magnitude peaks, in the style of the MEGC 2020
baseline and SOFTNet's post-processing.

Per step (frame of the flow), the mean flow magnitude over the face (head motion already removed), from the
frame `references_s[0]` earlier for micro-expressions and `references_s[-1]` for macro.
The signal is averaged over k frames, where k is half the mean coded duration of the type
on the training folds (CAS(ME)^2's peers use 6 and 18 at 30 fps); peaks at least k apart
above mean + p * (max - mean) of the recording become intervals [peak - k, peak + k]. The
one free number p is fitted per type on the training folds (best pooled F1 there).
"""

from __future__ import annotations

import numpy as np
from scipy.signal import find_peaks

from apexspot.recordings.intervals import Spotted, as_spans, smooth
from apexspot.recordings.megc import KINDS, pooled, score_recording
from apexspot.recordings.sequences import Sequence

P_GRID = np.round(np.arange(0.05, 0.96, 0.05), 2)


def signal(seq: Sequence, reference: int) -> np.ndarray:
    """Mean flow magnitude over the face per step; 0 where there is no valid flow."""
    mag = seq.features[:, reference, :, :, 2].astype(np.float64).mean(axis=(1, 2))
    return np.where(seq.valid[:, reference] & seq.usable[seq.positions], mag, 0.0)


class PeakBaseline:
    name = "flow_peaks"

    def __init__(self) -> None:
        self.k_s = {k: 0.0 for k in KINDS}
        self.p = {k: 0.5 for k in KINDS}

    def fit(self, train: list[Sequence]) -> "PeakBaseline":
        for kind in KINDS:
            durations = [s.length / seq.fps for seq in train for s in seq.coded[kind]]
            self.k_s[kind] = 0.5 * float(np.mean(durations)) if durations else 0.2
            scores = []
            for p in P_GRID:
                self.p[kind] = float(p)
                counts = [score_recording(as_spans(self.spot(seq, only=kind)), seq.coded) for seq in train]
                scores.append(pooled(counts)[kind].f1)
            self.p[kind] = float(P_GRID[int(np.argmax(scores))])
        return self

    def spot(self, seq: Sequence, only: str | None = None) -> list[Spotted]:
        out = []
        references = seq.features.shape[1]
        usable = seq.spottable
        for kind in (only,) if only else KINDS:
            k = max(1, int(round(self.k_s[kind] * seq.rate)))  # in steps
            sig = smooth(signal(seq, 0 if kind == "micro" else references - 1), k)
            if not usable.any():
                continue
            top, mean = float(sig[usable].max()), float(sig[usable].mean())
            peaks, _ = find_peaks(sig, height=mean + self.p[kind] * (top - mean), distance=k)
            for peak in peaks:
                if usable[peak]:
                    on, off = seq.positions[max(0, peak - k)], seq.positions[min(seq.steps - 1, peak + k)]
                    out.append(Spotted(kind, int(on), int(seq.positions[peak]), int(off), round(float(sig[peak]), 4)))
        return sorted(out, key=lambda s: (s.onset, s.kind))

    def state(self) -> dict[str, dict[str, float]]:
        return {"k_s": self.k_s, "p": self.p}
