"""Subject-independent folds: every clip of a subject is tested by the same fold.

Neighbouring frames at 200 fps are near-copies and a person's face is the same in every
clip, so splitting by clip or by frame puts the test subject in the training set and
inflates every number. Folds are made by scikit-learn's group splitters with the clip's
identity as the group (the subject in CASME II and SAMM; the photograph in the synthetic
set, where several subjects are made from one face); k-fold is stratified by dataset so
CASME II and SAMM are spread evenly.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from sklearn.model_selection import LeaveOneGroupOut, StratifiedGroupKFold

from apexspot.core.errors import ApexspotError

SCHEMES = ("kfold", "loso")


class Unit(Protocol):
    """What is split: a clip or a recording."""

    clip_id: str
    subject: str
    identity: str  # who the face is: the folds group by it
    dataset: str


class FoldError(ApexspotError):
    """A split that would not be subject-independent or would leave a fold empty."""


def make_folds(clips: list[Unit], scheme: str = "kfold", k: int = 5, seed: int = 0, key: str = "folds",
               unit: str = "clips") -> dict[str, int]:
    """identity (the subject, for real data) -> fold number (0-based). `key` is where the
    settings live in params.yaml and `unit` what is split, for the messages."""
    if scheme not in SCHEMES:
        raise FoldError(f"{key}.scheme must be kfold or loso, not {scheme!r}")
    subjects = sorted({c.identity for c in clips})
    have = f"the {unit} have {len(subjects)} ({', '.join(subjects[:10])})"
    if len(subjects) < 2:
        raise FoldError(f"subject-independent folds need at least 2 subjects (distinct faces); {have}: add the "
                        f"data of another subject ({key}.scheme {scheme})")
    if scheme == "kfold" and len(subjects) < k:
        raise FoldError(f"{key}.k = {k} needs at least {k} subjects (distinct faces); {have}. Lower {key}.k to "
                        f"{len(subjects)} or less, or add data.")
    groups = np.array([c.identity for c in clips])
    strata = np.array([c.dataset for c in clips])
    if scheme == "kfold":
        splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
        splits = splitter.split(np.zeros(len(clips)), strata, groups)
    else:
        splits = LeaveOneGroupOut().split(np.zeros(len(clips)), strata, groups)
    assignment: dict[str, int] = {}
    for fold, (_, test) in enumerate(splits):
        if len(test) == 0:
            raise FoldError(f"fold {fold} would have no test clips")
        for subject in sorted(set(groups[test])):
            if subject in assignment:
                raise FoldError(f"subject {subject} would be in folds {assignment[subject]} and {fold}")
            assignment[subject] = fold
    missing = set(subjects) - set(assignment)
    if missing:
        raise FoldError(f"subjects {sorted(missing)} were given no fold")
    return assignment


def folds_document(clips: list[Unit], assignment: dict[str, int], scheme: str, k: int, seed: int) -> dict[str, Any]:
    """What data/folds.json holds: the subject map and each fold's test subjects and clips."""
    n = max(assignment.values()) + 1
    folds = []
    for fold in range(n):
        test = [c for c in clips if assignment[c.identity] == fold]
        folds.append({"fold": fold, "subjects": sorted({c.subject for c in test}),
                      "clips": sorted(c.clip_id for c in test)})
    subjects = {c.subject: assignment[c.identity] for c in clips}
    return {"scheme": scheme, "k": n, "seed": seed if scheme == "kfold" else None,
            "subjects": dict(sorted(subjects.items())), "identities": dict(sorted(assignment.items())),
            "folds": folds}


def fold_table(clips: list[Unit], assignment: dict[str, int], unit: str = "clips") -> str:
    """Clips (or recordings: `unit`) and subjects per fold and dataset, as printed by the fold-split stage."""
    datasets = sorted({c.dataset for c in clips})
    clip_count = Counter((assignment[c.identity], c.dataset) for c in clips)
    people: dict[tuple[int, str], set[str]] = defaultdict(set)
    for c in clips:
        people[(assignment[c.identity], c.dataset)].add(c.subject)
    lines = ["fold  " + "".join(f"{d:>20}" for d in datasets) + f"{'total':>16}"]
    for fold in range(max(assignment.values()) + 1):
        cells = "".join(f"{clip_count[(fold, d)]:>8} {unit} ({len(people[(fold, d)]):>2} subj)" for d in datasets)
        total = sum(clip_count[(fold, d)] for d in datasets)
        lines.append(f"{fold:>4}  {cells}{total:>10} {unit}")
    return "\n".join(lines)


def read_folds(path: str, clips: dict[str, Unit]) -> list[dict[str, Any]]:
    """data/folds.json's folds, checked where they are used: every clip is in the manifest,
    and no clip or subject sits in two folds (else a model would be tested on its own training
    data). Raises FoldError naming the file and the clip or subject."""
    try:
        folds = json.loads(Path(path).read_text())["folds"]
        fold_of_clip: dict[str, int] = {}
        fold_of_subject: dict[str, int] = {}
        for fold in folds:
            k = int(fold["fold"])
            for clip_id in fold["clips"]:
                if clip_id not in clips:
                    raise FoldError(f"{path}: clip {clip_id} (fold {k}) is not in data/manifest.csv; rerun fold-split")
                if clip_id in fold_of_clip:
                    raise FoldError(f"{path}: clip {clip_id} is in folds {fold_of_clip[clip_id]} and {k}")
                fold_of_clip[clip_id] = k
                identity = clips[clip_id].identity
                if fold_of_subject.setdefault(identity, k) != k:
                    raise FoldError(f"{path}: subject {identity} is in folds {fold_of_subject[identity]} and {k} "
                                    f"(clip {clip_id}); folds must be subject-independent")
    except FileNotFoundError:
        raise FoldError(f"{path}: missing (run the fold-split stage first)") from None
    except (ValueError, KeyError, TypeError) as err:
        raise FoldError(f"{path}: not a folds file ({type(err).__name__}: {err}); rerun fold-split") from None
    return folds
