"""Recognition scored as the field scores it: UF1 and UAR (STRS, for spot-then-recognise in
long recordings, is in apexspot.recognition.recordings, built on these).

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

Intervals resample subjects (apexspot.core.bootstrap): per-subject confusion matrices (and
spotting counts) add up, so each draw's UF1, UAR and STRS come from the summed ones; two
predictors scored on the same draws give a paired difference.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import confusion_matrix

from apexspot.core.bootstrap import interval, resampled_sums


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


def per_subject(truth: list[str], predicted: list[str], subjects: list[str], classes: tuple[str, ...],
                people: list[str]) -> np.ndarray:
    """people x classes^2: each subject's confusion matrix, flattened (they add up)."""
    return np.stack([matrix_of([t for t, s in zip(truth, subjects) if s == p],
                               [y for y, s in zip(predicted, subjects) if s == p], classes).ravel() for p in people])


def recognition(truth: list[str], predicted: list[str], subjects: list[str], classes: tuple[str, ...],
                resamples: int = 1000, seed: int = 0) -> dict[str, float]:
    """UF1 and UAR with their subject-bootstrap 95% intervals."""
    out = scores(matrix_of(truth, predicted, classes))
    people = sorted(set(subjects))
    if people:
        k = len(classes)
        drawn = resampled_sums(per_subject(truth, predicted, subjects, classes, people), resamples, seed)
        boot = [scores(m) for m in drawn.reshape(resamples, k, k)]
        for key in ("uf1", "uar"):
            out[f"{key}_ci_low"], out[f"{key}_ci_high"] = interval(np.array([b[key] for b in boot]))
    return out


def paired_difference(truth: list[str], first: list[str], second: list[str], subjects: list[str],
                      classes: tuple[str, ...], resamples: int = 1000, seed: int = 0) -> dict[str, float]:
    """UF1 and UAR of `first` minus those of `second` (the same items), each with the interval
    of the difference over the same subject draws."""
    people, k = sorted(set(subjects)), len(classes)
    a, b = scores(matrix_of(truth, first, classes)), scores(matrix_of(truth, second, classes))
    out = {key: a[key] - b[key] for key in ("uf1", "uar")}
    if people:
        both = np.concatenate([per_subject(truth, first, subjects, classes, people),
                               per_subject(truth, second, subjects, classes, people)], axis=1)
        drawn = resampled_sums(both, resamples, seed)
        ones = [scores(m) for m in drawn[:, :k * k].reshape(resamples, k, k)]
        twos = [scores(m) for m in drawn[:, k * k:].reshape(resamples, k, k)]
        for key in ("uf1", "uar"):
            out[f"{key}_ci_low"], out[f"{key}_ci_high"] = interval(np.array([x[key] - y[key] for x, y in zip(ones, twos)]))
    return out
