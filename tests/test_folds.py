"""Subject-independent folds."""

from __future__ import annotations

from collections import Counter

import pytest

from apexspot.clips.manifest import Clip
from apexspot.core.folds import FoldError, folds_document, make_folds


def clip(dataset: str, subject: int, n: int) -> Clip:
    sid = f"{dataset}-{subject:02d}"
    return Clip(f"{dataset}/{subject:02d}/c{n}", sid, dataset, f"c{n}", 0, 5, 10, 11, "", "", "", "", "", "s", n)


@pytest.fixture
def clips() -> list[Clip]:
    out = [clip("casme2", s, n) for s in range(1, 13) for n in range(1 + s % 4)]
    return out + [clip("samm", s, n) for s in range(1, 9) for n in range(2)]


def test_kfold_is_subject_independent_and_covers_every_clip(clips) -> None:
    assignment = make_folds(clips, "kfold", 5, seed=3)
    assert set(assignment) == {c.subject for c in clips} and set(assignment.values()) == set(range(5))
    doc = folds_document(clips, assignment, "kfold", 5, 3)
    tested = Counter(cid for f in doc["folds"] for cid in f["clips"])
    assert set(tested) == {c.clip_id for c in clips} and set(tested.values()) == {1}
    seen = Counter(s for f in doc["folds"] for s in f["subjects"])
    assert set(seen.values()) == {1}  # no subject in two folds
    for f in doc["folds"]:  # both datasets in every fold (stratified)
        assert {c.split("/")[0] for c in f["clips"]} == {"casme2", "samm"}


def test_kfold_is_seeded(clips) -> None:
    assert make_folds(clips, "kfold", 5, 1) == make_folds(clips, "kfold", 5, 1)
    assert make_folds(clips, "kfold", 5, 1) != make_folds(clips, "kfold", 5, 2)


def test_casme_and_samm_subjects_with_the_same_number_are_different_people(clips) -> None:
    assignment = make_folds(clips, "kfold", 5, 0)
    assert "casme2-06" in assignment and "samm-06" in assignment


def test_loso_has_one_subject_per_fold(clips) -> None:
    doc = folds_document(clips, make_folds(clips, "loso"), "loso", 0, 0)
    assert len(doc["folds"]) == 20 and all(len(f["subjects"]) == 1 for f in doc["folds"])


def test_too_small_a_dataset_is_refused() -> None:
    few = [clip("casme2", s, 0) for s in range(1, 4)]
    with pytest.raises(FoldError, match=r"folds.k = 5 needs at least 5 subjects \(distinct faces\); the clips have 3"):
        make_folds(few, "kfold", 5)
    with pytest.raises(FoldError, match="at least 2 subjects"):
        make_folds(few[:1], "loso")
    with pytest.raises(FoldError, match="kfold or loso"):
        make_folds(few, "random")
