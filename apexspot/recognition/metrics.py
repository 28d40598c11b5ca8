"""Recognition scored as the field scores it: UF1, UAR, and STRS for spot-then-recognise.

- UF1: the mean over classes of each class's F1; UAR: the mean over classes of each class's
  recall (scikit-learn's macro averages). Both are taken over the classes the truth holds: a
  class nothing is coded as is left out (its F1 and recall are undefined), but predictions of
  it still cost the classes they were wrongly given to.
- STRS (MEGC 2023-2025's spot-then-recognise score) = spotting F1 x analysis F1. Analysis F1
  is computed on the spotted intervals that match a coded one: the harmonic mean of the
  class-averaged precision and the class-averaged recall over those pairs. A spotted
  interval that matches nothing adds nothing to it (it already costs the spotting F1).
  The public reference implementation's "UAR" is the mean per-class *precision*; this is
  the recall.

Intervals resample subjects (apexspot.core.bootstrap): per-subject confusion matrices add
up, so each draw's UF1 and UAR come from the summed matrix.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import confusion_matrix

from apexspot.core.bootstrap import interval, resampled_sums
from apexspot.recordings.megc import Counts, Span, match


def scores(matrix: np.ndarray) -> dict[str, float]:
    """UF1, UAR, class-averaged precision and the analysis F1 of a confusion matrix (rows: the
    truth, columns: the prediction), over the classes the truth holds."""
    m = np.asarray(matrix, np.float64)
    truth, said, hit = m.sum(1), m.sum(0), np.diag(m)
    present = truth > 0
    if not present.any():
        return {"uf1": 0.0, "uar": 0.0, "precision": 0.0, "analysis_f1": 0.0}
    recall = hit[present] / truth[present]
    precision = np.divide(hit, said, out=np.zeros_like(hit), where=said > 0)[present]
    f1 = np.divide(2 * hit, truth + said, out=np.zeros_like(hit), where=(truth + said) > 0)[present]
    p, r = float(precision.mean()), float(recall.mean())
    return {"uf1": float(f1.mean()), "uar": r, "precision": p, "analysis_f1": 2 * p * r / (p + r) if p + r else 0.0}


def matrix_of(truth: list[str], predicted: list[str], classes: tuple[str, ...]) -> np.ndarray:
    return confusion_matrix(truth, predicted, labels=list(classes)) if truth else np.zeros((len(classes),) * 2, int)


def recognition(truth: list[str], predicted: list[str], subjects: list[str], classes: tuple[str, ...],
                resamples: int = 1000, seed: int = 0) -> dict[str, float]:
    """UF1 and UAR with their subject-bootstrap 95% intervals."""
    out = scores(matrix_of(truth, predicted, classes))
    people = sorted(set(subjects))
    per_subject = np.stack([matrix_of([t for t, s in zip(truth, subjects) if s == p],
                                      [y for y, s in zip(predicted, subjects) if s == p], classes).ravel()
                            for p in people]) if people else np.zeros((0, len(classes) ** 2))
    if len(people):
        drawn = resampled_sums(per_subject, resamples, seed).reshape(resamples, len(classes), len(classes))
        boot = [scores(m) for m in drawn]
        for key in ("uf1", "uar"):
            out[f"{key}_ci_low"], out[f"{key}_ci_high"] = interval(np.array([b[key] for b in boot]))
    return out


def strs(spotting_f1: float, matched_truth: list[str], matched_predicted: list[str],
         classes: tuple[str, ...]) -> dict[str, float]:
    """STRS from the spotting F1 and the classes of the matched (true positive) intervals only."""
    analysis = scores(matrix_of(matched_truth, matched_predicted, classes))["analysis_f1"]
    return {"spotting_f1": spotting_f1, "analysis_f1": analysis, "strs": spotting_f1 * analysis}


def spot_then_recognise(recordings: list[tuple[list[tuple[Span, str]], list[tuple[Span, str]]]],
                        classes: tuple[str, ...]) -> dict[str, float]:
    """STRS over recordings, each (spotted, coded): lists of (interval, class). A spotted
    interval is a true positive when it matches a coded one (IoU >= 0.5, one to one, as the
    spotting F1 counts it); only those pairs enter the analysis F1."""
    total = Counts()
    truth: list[str] = []
    said: list[str] = []
    for spotted, coded in recordings:
        pairs = match([s for s, _ in spotted], [c for c, _ in coded])
        total = total + Counts(len(pairs), len(spotted) - len(pairs), len(coded) - len(pairs))
        truth += [coded[j][1] for _, j in pairs]
        said += [spotted[i][1] for i, _ in pairs]
    return strs(total.f1, truth, said, classes)
