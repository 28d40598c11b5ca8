"""Spotting scored the MEGC way, with subject-level bootstrap intervals.

A spotted interval is a true positive when its IoU with a coded interval of the same type
is at least 0.5; frame intervals include both ends (length = offset - onset + 1), and IoU
is compared exactly, in integers (2 * overlap >= union). Matching is one-to-one and takes
the most matches (scipy's assignment solver, IoU breaking ties), so one spotted interval
overlapping two coded ones counts once and the other coded one is a miss. Every recording
is evaluated, those without a coded interval too (all they can add is false positives).
TP, FP and FN are pooled over the dataset before precision, recall and F1 are computed,
per type (micro, macro) and overall (both summed), as MEGC does: a per-recording F1
averaged would weigh a recording with one expression like one with twenty.

The public evaluators differ in these details (one lets a spotted interval claim several
coded ones, one only checks its best-IoU coded interval, some skip recordings without a
coded interval); numbers from them are not comparable to the second decimal.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable

import numpy as np
from scipy.optimize import linear_sum_assignment

from apexspot.core.bootstrap import interval, resampled_sums

KINDS = ("micro", "macro")


@dataclass(frozen=True)
class Span:
    onset: int
    offset: int  # inclusive

    @property
    def length(self) -> int:
        return self.offset - self.onset + 1


def overlap(a: Span, b: Span) -> int:
    return max(0, min(a.offset, b.offset) - max(a.onset, b.onset) + 1)


def counts_as_hit(a: Span, b: Span) -> bool:
    """IoU >= 0.5, exactly: 2 * intersection >= union."""
    inter = overlap(a, b)
    return inter > 0 and 2 * inter >= a.length + b.length - inter


def iou(a: Span, b: Span) -> float:
    inter = overlap(a, b)
    return inter / (a.length + b.length - inter)


def match(spotted: list[Span], coded: list[Span]) -> list[tuple[int, int]]:
    """(spotted index, coded index) of the true positives: one-to-one, as many as possible."""
    if not spotted or not coded:
        return []
    gain = np.zeros((len(spotted), len(coded)))
    for i, s in enumerate(spotted):
        for j, c in enumerate(coded):
            if counts_as_hit(s, c):
                gain[i, j] = 1.0 + iou(s, c) / 2  # a hit first; among equal counts, the better overlaps
    rows, cols = linear_sum_assignment(-gain)
    return [(int(i), int(j)) for i, j in zip(rows, cols) if gain[i, j] > 0]


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def __add__(self, other: "Counts") -> "Counts":
        return Counts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        return 2 * self.tp / (2 * self.tp + self.fp + self.fn) if self.tp + self.fp + self.fn else 0.0


def score_recording(spotted: dict[str, list[Span]], coded: dict[str, list[Span]]) -> dict[str, Counts]:
    """Counts per type for one recording (types scored separately)."""
    out = {}
    for kind in KINDS:
        s, c = spotted.get(kind, []), coded.get(kind, [])
        hits = len(match(s, c))
        out[kind] = Counts(hits, len(s) - hits, len(c) - hits)
    return out


def pooled(per_recording: Iterable[dict[str, Counts]]) -> dict[str, Counts]:
    """Counts summed over recordings, per type and overall."""
    total = {kind: Counts() for kind in KINDS}
    for counts in per_recording:
        for kind in KINDS:
            total[kind] = total[kind] + counts[kind]
    total["overall"] = total["micro"] + total["macro"]
    return total


def bootstrap(per_recording: dict[str, dict[str, dict[str, Counts]]], subjects: dict[str, str],
              resamples: int = 1000, seed: int = 0) -> dict[str, dict[str, np.ndarray]]:
    """F1 per method and type over `resamples` draws of subjects with replacement (all their
    recordings together): per_recording[method][recording] -> counts; subjects[recording] ->
    subject. Draws are shared by the methods, so differences are paired."""
    people = sorted(set(subjects.values()))
    by_subject: dict[str, dict[str, dict[str, Counts]]] = {}
    for method, recs in per_recording.items():
        groups: dict[str, list] = defaultdict(list)
        for rec, counts in recs.items():
            groups[subjects[rec]].append(counts)
        by_subject[method] = {p: pooled(groups.get(p, [])) for p in people}
    out: dict[str, dict[str, np.ndarray]] = {}
    for method, table in by_subject.items():
        kinds = {}
        for kind in (*KINDS, "overall"):
            arr = np.array([[table[p][kind].tp, table[p][kind].fp, table[p][kind].fn] for p in people], float)
            sums = resampled_sums(arr, resamples, seed)  # resamples x 3; the same draws every time
            denominator = 2 * sums[:, 0] + sums[:, 1] + sums[:, 2]
            kinds[kind] = np.where(denominator > 0, 2 * sums[:, 0] / np.maximum(denominator, 1), 0.0)
        out[method] = kinds
    return out


def rounded_interval(values: np.ndarray) -> list[float]:
    """The 95% interval (apexspot.core.bootstrap), to 4 decimals as the metrics file holds it."""
    return [round(x, 4) for x in interval(values)]
