"""UF1, UAR and STRS on hand-made cases, and the emotion classes of each protocol."""

from __future__ import annotations

import pytest

from apexspot.recognition.classes import CLASSES, classify
from apexspot.recognition.metrics import recognition, scores
from apexspot.recognition.recordings import spot_then_recognise
from apexspot.recordings.megc import Span

THREE = CLASSES["composite"]  # negative, positive, surprise


def test_a_perfect_classifier_scores_one() -> None:
    truth = ["negative"] * 4 + ["positive"] * 2 + ["surprise"]
    got = recognition(truth, truth, [f"s{i % 3}" for i in range(len(truth))], THREE, resamples=200)
    assert got["uf1"] == got["uar"] == got["analysis_f1"] == 1.0
    assert got["uf1_ci_low"] == got["uf1_ci_high"] == 1.0


def test_the_majority_class_of_three_unbalanced_classes() -> None:
    truth = ["negative"] * 6 + ["positive"] * 3 + ["surprise"]
    got = recognition(truth, ["negative"] * 10, [f"s{i}" for i in range(10)], THREE, resamples=200)
    assert got["uar"] == pytest.approx(1 / 3)  # recall 1, 0, 0
    assert got["uf1"] == pytest.approx(0.75 / 3)  # F1 of negative: 2*6 / (6 + 10)
    assert got["precision"] == pytest.approx(0.6 / 3) and got["analysis_f1"] == pytest.approx(0.25)
    assert got["uar_ci_low"] <= got["uar"] <= got["uar_ci_high"]


def test_a_class_nothing_is_coded_as_is_left_out_but_predicting_it_costs() -> None:
    m = scores([[1, 1, 0], [0, 1, 0], [0, 0, 0]])  # no surprise coded, none predicted
    assert m["uf1"] == pytest.approx(2 / 3) and m["uar"] == pytest.approx(0.75)
    wrong = scores([[0, 0, 1], [0, 1, 0], [0, 0, 0]])  # a negative called surprise
    assert wrong["uf1"] == pytest.approx(0.5) and wrong["uar"] == pytest.approx(0.5)


def test_uar_is_the_mean_recall_not_the_mean_precision() -> None:
    m = scores([[2, 0, 0], [2, 0, 0], [0, 0, 1]])  # both positives called negative
    assert m["uar"] == pytest.approx((1 + 0 + 1) / 3)
    assert m["precision"] == pytest.approx((0.5 + 0 + 1) / 3)


def test_a_spotted_interval_that_matches_nothing_adds_nothing_to_analysis_f1() -> None:
    coded = [(Span(10, 20), "positive"), (Span(50, 60), "negative")]
    right = [(Span(10, 20), "positive"), (Span(50, 61), "negative")]
    both = spot_then_recognise([(right, coded)], THREE)
    assert both["spotting_f1"] == 1.0 and both["analysis_f1"] == 1.0 and both["strs"] == 1.0
    stray = spot_then_recognise([(right + [(Span(100, 110), "surprise")], coded)], THREE)
    assert stray["analysis_f1"] == 1.0  # the stray surprise is no pair: only the spotting F1 pays
    assert stray["spotting_f1"] == pytest.approx(0.8) and stray["strs"] == pytest.approx(0.8)
    mislabelled = spot_then_recognise([([(Span(10, 20), "negative"), (Span(50, 60), "negative")], coded)], THREE)
    assert mislabelled["spotting_f1"] == 1.0 and mislabelled["analysis_f1"] < 1.0


@pytest.mark.parametrize("emotion,dataset,scheme,expected", [
    ("happiness", "casme2", "composite", "positive"), ("repression", "casme2", "composite", "negative"),
    ("Contempt", "samm", "composite", "negative"), ("surprise", "samm", "composite", "surprise"),
    ("others", "casme2", "composite", None), ("fear", "casme2", "casme2", None),
    ("sadness", "samm", "samm", "other"), ("positive", "casme_sq", "composite", "positive"),
    ("others", "casme_sq", "composite", None),
])
def test_emotions_map_to_the_protocols_classes_or_are_reported(emotion: str, dataset: str, scheme: str,
                                                                expected: str | None) -> None:
    found, why = classify(emotion, dataset, scheme)
    assert found == expected and (why == "") == (expected is not None)
    if expected is None:
        assert repr(emotion) in why
