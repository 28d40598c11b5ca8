"""Spot, then recognise, in long recordings: a class for every interval the spotter finds,
and STRS (spotting F1 x analysis F1) with subject-bootstrap intervals.

The classifier reads what the interval spotter reads: the recording's pooled flow at one
step (from 0.2 s and 0.6 s earlier, apexspot.recordings.sequences), here at the interval's
step of most motion, where the face has moved furthest from where it was before. It is
trained per fold on the coded intervals of the training recordings whose emotion maps to a
composite class (at the step of most motion in the interval and the steps beside it,
mirrored too), and run on the intervals the fold's spotter found in its held-out
recordings, each read the same way.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import pandas as pd

from apexspot.core.config import IntervalRecognition
from apexspot.recognition import networks
from apexspot.recognition.classes import classify
from apexspot.core.bootstrap import interval, resampled_sums
from apexspot.recognition.metrics import matrix_of, scores
from apexspot.recordings.megc import KINDS, Span, match
from apexspot.recordings.recording import Interval
from apexspot.recordings.sequences import Sequence

SCHEME = "composite"


def step_at(seq: Sequence, position: int) -> int:
    """The model step nearest a frame position."""
    return int(np.argmin(np.abs(seq.positions - position)))


def reading_step(seq: Sequence, span: Span) -> int:
    """The step an interval is classified at: its step of most pooled flow (from both
    references), among those with a face and flow. The spotter's apex is where it became
    sure, which for a macro-expression is often its first frames (a real smile: 0.1 s in,
    when only the 0.2-s reference shows it, and the classifier says negative); the most
    motion is where the action units show most, and is found the same way in a coded
    interval and a spotted one."""
    steps = np.flatnonzero((seq.positions >= span.onset) & (seq.positions <= span.offset) & seq.spottable)
    if not len(steps):
        return step_at(seq, (span.onset + span.offset) // 2)
    motion = np.abs(seq.features[steps].astype(np.float32)).reshape(len(steps), -1).mean(axis=1)
    return int(steps[int(np.argmax(motion))])


def coded_classes(seq: Sequence) -> dict[Span, str | None]:
    """The composite class of each coded interval (None where the emotion maps to none)."""
    return {span: classify(emotion, seq.dataset, SCHEME)[0] for span, emotion in seq.emotions.items()}


def left_out(intervals: list[Interval], datasets: dict[str, str]) -> list[dict[str, Any]]:
    """Coded intervals whose emotion has no composite class, with the sheet row and why."""
    out = []
    for i in intervals:
        if i.recording_id not in datasets:
            continue
        label, why = classify(i.emotion, datasets[i.recording_id], SCHEME)
        if label is None:
            out.append({"recording": i.recording_id, "onset": i.onset, "offset": i.offset, "kind": i.kind,
                        "sheet": i.sheet, "row": i.sheet_row, "emotion": i.emotion, "reason": why})
    return out


def training_set(seqs: list[Sequence], classes: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Inputs at each mapped coded interval's apex and the steps on either side, and mirrored."""
    xs, ys = [], []
    for seq in seqs:
        for span, label in coded_classes(seq).items():
            if label is None:
                continue
            at = reading_step(seq, span)
            steps = np.clip(np.arange(at - 1, at + 2), 0, seq.steps - 1)
            for mirror in (False, True):
                xs.append(seq.inputs(steps, mirror=mirror))
                ys += [classes.index(label)] * len(steps)
    if not xs:
        return np.zeros((0, 0), np.float32), np.zeros(0, np.int32)
    return np.concatenate(xs), np.asarray(ys, np.int32)


def train(seqs: list[Sequence], classes: tuple[str, ...], p: IntervalRecognition, seed: int) -> keras.Model | None:
    x, y = training_set(seqs, classes)
    if not len(y):
        return None
    keras.utils.set_random_seed(seed)
    return networks.fit(networks.feature_classifier(x.shape[1], len(classes)), x, y, p.epochs, p.batch_size, p.learning_rate)


def classify_spotted(model: keras.Model, seq: Sequence, spans: list[Span], classes: tuple[str, ...]
                     ) -> list[tuple[str, float]]:
    """(class, probability) of these intervals (frame positions), each at its reading step."""
    if not spans:
        return []
    x = seq.inputs(np.array([reading_step(seq, span) for span in spans]))
    return networks.named(networks.probabilities(model, x), classes)


def spotted_of(rows: pd.DataFrame, seq: Sequence) -> dict[str, list[tuple[Span, int]]]:
    """The recording's spotted intervals (rows of metrics/recordings/intervals.csv, frame
    numbers) per type, as frame positions: (span, apex)."""
    out: dict[str, list[tuple[Span, int]]] = {k: [] for k in KINDS}
    where = lambda n: int(np.searchsorted(seq.numbers, n))  # noqa: E731  numbers are sorted, spotted ones exist
    for r in rows.itertuples():
        out[r.kind].append((Span(where(r.onset), where(r.offset)), where(r.apex)))
    return out


def strs(spotting_f1: float, matched_truth: list[str], matched_predicted: list[str],
         classes: tuple[str, ...]) -> dict[str, float]:
    """STRS from the spotting F1 and the classes of the matched (true positive) intervals only."""
    analysis = scores(matrix_of(matched_truth, matched_predicted, classes))["analysis_f1"]
    return {"spotting_f1": spotting_f1, "analysis_f1": analysis, "strs": spotting_f1 * analysis}


Labelled = list[tuple[Span, "str | None"]]


def spot_then_recognise(items: list[tuple[Labelled, Labelled]] | list[tuple[str, Labelled, Labelled]],
                        classes: tuple[str, ...], resamples: int = 0, seed: int = 0) -> dict[str, float]:
    """STRS over items, each ([subject,] spotted, coded): one recording's intervals of one
    type (micro or macro), as lists of (interval, class). A spotted interval is a true
    positive when it matches a coded one (IoU >= 0.5, one to one, as the spotting F1 counts
    it); only those pairs enter the analysis F1, and only where the coded class is one of
    `classes` (None: an emotion the scheme leaves out, which still counts for spotting).
    With `resamples` and subjects given: subject-bootstrap intervals of all three numbers."""
    k = len(classes)
    index = {c: i for i, c in enumerate(classes)}
    rows: dict[str, np.ndarray] = {}  # subject -> tp, fp, fn, then the matched pairs' confusion matrix
    for item in items:
        subject, spotted, coded = item if len(item) == 3 else ("", *item)
        pairs = match([s for s, _ in spotted], [c for c, _ in coded])
        row = rows.setdefault(subject, np.zeros(3 + k * k))
        row[:3] += (len(pairs), len(spotted) - len(pairs), len(coded) - len(pairs))
        for i, j in pairs:
            truth, said = coded[j][1], spotted[i][1]
            if truth in index:
                row[3 + index[truth] * k + index[said]] += 1

    def total(summed: np.ndarray) -> dict[str, float]:
        tp, fp, fn = summed[:3]
        f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        analysis = scores(summed[3:].reshape(k, k))["analysis_f1"]
        return {"spotting_f1": float(f1), "analysis_f1": analysis, "strs": float(f1) * analysis}

    table = np.stack(list(rows.values())) if rows else np.zeros((1, 3 + k * k))
    out = total(table.sum(axis=0)) | {"pairs_analysed": int(table[:, 3:].sum())}
    if resamples and rows:
        boot = [total(s) for s in resampled_sums(table, resamples, seed)]
        for key in ("spotting_f1", "analysis_f1", "strs"):
            out[f"{key}_ci_low"], out[f"{key}_ci_high"] = interval(np.array([b[key] for b in boot]))
    return out


def strs_by_dataset(items: list[tuple[str, str, list, list]], classes: tuple[str, ...], resamples: int,
                    seed: int) -> dict[str, dict[str, float]]:
    """STRS with intervals over all recordings and per dataset; items: (dataset, subject, spotted, coded)."""
    groups = {"all": items} | {d: [i for i in items if i[0] == d] for d in sorted({i[0] for i in items})}
    if len(groups) == 2:  # one dataset: "all" is that dataset
        groups.pop("all")
    return {name: spot_then_recognise([(s, sp, co) for _, s, sp, co in part], classes, resamples, seed)
            for name, part in groups.items()}
