"""Per-step probabilities to spotted intervals, and the decoding settings fitted on training folds.

Each type (micro, macro) has its own probability track. It is averaged over `smooth_s`,
cut at a threshold; runs separated by a dip shorter than the shortest run kept are one run,
and every run long enough becomes one interval: onset and offset at the run's ends, apex at
its most probable step, confidence the run's mean probability. Steps without a usable face or without flow are never inside a
run. A micro-expression lasts at most 0.5 s (the MEGC rule ingest flags coded rows by): a
longer micro run is cut to the 0.5 s around its apex, so nothing longer is ever called micro. The
threshold (the middle of those that tie for the best pooled F1) and the shortest run kept
(half the 5th percentile of the coded durations) are fitted on the training folds only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from apexspot.recordings.megc import KINDS, Span, pooled, score_recording
from apexspot.recordings.recording import MICRO_SECONDS

THRESHOLDS = np.round(np.arange(0.1, 0.91, 0.05), 2)


@dataclass
class Spotted:
    kind: str
    onset: int  # frame positions in the recording (0-based, inclusive)
    apex: int
    offset: int
    confidence: float

    @property
    def span(self) -> Span:
        return Span(self.onset, self.offset)


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) of every run of True."""
    padded = np.concatenate([[False], mask, [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2])]


def bridged(spans: list[tuple[int, int]], usable: np.ndarray, shortest: int) -> list[tuple[int, int]]:
    """`spans` with each gap of fewer than `shortest` steps, all usable, closed: a dip too
    short to hold an expression of its own is the same expression wavering (a smile easing
    before it fades), not two."""
    out: list[tuple[int, int]] = []
    for a, b in spans:
        if out and a - out[-1][1] - 1 < shortest and usable[out[-1][1] + 1:a].all():
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def smooth(track: np.ndarray, steps: int) -> np.ndarray:
    if steps <= 1:
        return track
    kernel = np.ones(steps) / steps
    return np.convolve(np.pad(track, (steps // 2, steps - 1 - steps // 2), mode="edge"), kernel, mode="valid")


def at_most(onset: int, apex: int, offset: int, longest: int) -> tuple[int, int]:
    """onset..offset cut to `longest` frames around the apex (inside the original)."""
    if offset - onset + 1 <= longest:
        return onset, offset
    start = min(max(onset, apex - longest // 2), offset - longest + 1)
    return start, start + longest - 1


def decode(probs: np.ndarray, positions: np.ndarray, usable: np.ndarray, frames: int, rate: float, fps: float,
           thresholds: dict[str, float], min_s: dict[str, float], smooth_s: float) -> list[Spotted]:
    """Intervals from `probs` (steps x 2, at frame `positions` of a recording of `frames`
    frames at `fps`); `usable` per step."""
    out = []
    longest_micro = max(1, int(MICRO_SECONDS * fps + 1e-9))
    step_s = 1.0 / rate
    for k, kind in enumerate(KINDS):
        track = smooth(probs[:, k], int(round(smooth_s * rate)))
        shortest = int(np.ceil(min_s[kind] / step_s - 1e-9))
        for a, b in bridged(runs((track >= thresholds[kind]) & usable), usable, shortest):
            if (b - a + 1) * step_s < min_s[kind]:
                continue
            apex = a + int(np.argmax(probs[a:b + 1, k]))
            # A run's last step stands for the frames up to the next step.
            last = int(positions[b + 1]) - 1 if b + 1 < len(positions) else frames - 1
            onset, offset = int(positions[a]), max(last, int(positions[b]))
            if kind == "micro":
                onset, offset = at_most(onset, int(positions[apex]), offset, longest_micro)
            out.append(Spotted(kind, onset, int(positions[apex]), offset, round(float(np.mean(probs[a:b + 1, k])), 4)))
    return sorted(out, key=lambda s: (s.onset, s.kind))


def as_spans(spotted: list[Spotted]) -> dict[str, list[Span]]:
    return {kind: [s.span for s in spotted if s.kind == kind] for kind in KINDS}


def fit_decoding(tracks: list[tuple], smooth_s: float) -> tuple[dict[str, float], dict[str, float]]:
    """(thresholds, shortest run in seconds) per type that give the best pooled F1 on the
    training recordings. A track is (probs, positions, usable, frames, coded spans, rate, fps)."""
    durations = {kind: [s.length / t[6] for t in tracks for s in t[4][kind]] for kind in KINDS}
    min_s = {kind: round(0.5 * float(np.percentile(d, 5)), 4) if d else 0.0 for kind, d in durations.items()}
    best = {}
    for kind in KINDS:
        scores = []
        for thr in THRESHOLDS:
            counts = []
            for probs, positions, usable, frames, coded, rate, fps in tracks:
                found = decode(probs, positions, usable, frames, rate, fps, {k: float(thr) for k in KINDS}, min_s,
                               smooth_s)
                counts.append(score_recording(as_spans([s for s in found if s.kind == kind]), coded))
            scores.append(pooled(counts)[kind].f1)
        # Training predictions are confident, so many thresholds often tie: take the middle of
        # the best ones, not the lowest (which merges neighbours and lets noise in).
        tied = np.flatnonzero(np.asarray(scores) >= max(scores) - 1e-9)
        best[kind] = float(THRESHOLDS[tied[len(tied) // 2]])
    return best, min_s
