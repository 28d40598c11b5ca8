"""The MEGC evaluator on hand-made cases."""

from __future__ import annotations

import numpy as np

from apexspot.recordings.megc import Counts, Span, bootstrap, counts_as_hit, match, pooled, score_recording


def test_iou_of_exactly_one_half_counts_and_just_below_does_not() -> None:
    assert counts_as_hit(Span(1, 5), Span(1, 10))  # 5 of 10 frames, inclusive ends: IoU 0.5
    assert counts_as_hit(Span(1, 10), Span(6, 15)) is False  # 5 / 15
    # 49 of 100 frames: IoU 0.49
    assert counts_as_hit(Span(1, 49), Span(1, 100)) is False
    assert counts_as_hit(Span(1, 50), Span(1, 100))


def test_one_spotted_interval_overlapping_two_coded_ones_counts_once() -> None:
    coded = [Span(10, 19), Span(15, 24)]
    spotted = [Span(12, 22)]  # IoU >= 0.5 with both
    assert all(counts_as_hit(spotted[0], c) for c in coded)
    assert len(match(spotted, coded)) == 1
    counts = score_recording({"micro": spotted}, {"micro": coded})["micro"]
    assert (counts.tp, counts.fp, counts.fn) == (1, 0, 1)


def test_matching_finds_the_most_true_positives() -> None:
    # Greedy by IoU would give s0 to c1 (its best) and leave c0 unmatched; the assignment matches both.
    coded = [Span(0, 9), Span(4, 13)]
    spotted = [Span(3, 12), Span(0, 8)]
    assert sorted(match(spotted, coded)) == [(0, 1), (1, 0)]


def test_types_are_scored_separately() -> None:
    counts = score_recording({"macro": [Span(0, 9)]}, {"micro": [Span(0, 9)]})
    assert (counts["micro"].fn, counts["macro"].fp, counts["micro"].tp) == (1, 1, 0)


def test_a_recording_without_coded_intervals_gives_false_positives_only() -> None:
    counts = score_recording({"micro": [Span(1, 5), Span(30, 40)], "macro": [Span(50, 90)]}, {})
    assert (counts["micro"].tp, counts["micro"].fp, counts["micro"].fn) == (0, 2, 0)
    assert (counts["macro"].tp, counts["macro"].fp, counts["macro"].fn) == (0, 1, 0)


def test_f1_is_pooled_over_recordings_not_averaged() -> None:
    a = {"micro": Counts(1, 0, 0), "macro": Counts()}  # F1 1.0 on its own
    b = {"micro": Counts(1, 9, 9), "macro": Counts()}  # F1 0.1 on its own
    total = pooled([a, b])
    assert (total["micro"].tp, total["micro"].fp, total["micro"].fn) == (2, 9, 9)
    assert abs(total["micro"].f1 - 4 / 22) < 1e-12  # pooled: 0.18, where the mean of 1.0 and 0.1 is 0.55
    assert total["overall"].tp == 2
    assert total["micro"].precision == 2 / 11 and total["micro"].recall == 2 / 11


def test_bootstrap_resamples_subjects_with_their_recordings_and_is_paired() -> None:
    per = {"model": {"r1": {"micro": Counts(2, 0, 0), "macro": Counts()},
                     "r2": {"micro": Counts(0, 1, 1), "macro": Counts()},
                     "r3": {"micro": Counts(1, 0, 0), "macro": Counts()}},
           "baseline": {"r1": {"micro": Counts(1, 1, 1), "macro": Counts()},
                        "r2": {"micro": Counts(0, 3, 1), "macro": Counts()},
                        "r3": {"micro": Counts(0, 2, 1), "macro": Counts()}}}
    subjects = {"r1": "s1", "r2": "s1", "r3": "s2"}  # r1 and r2 are one person: always drawn together
    f1 = bootstrap(per, subjects, resamples=200, seed=0)
    values = set(np.round(f1["model"]["micro"], 6))
    s1, s2 = Counts(2, 1, 1), Counts(1, 0, 0)
    possible = {round(c.f1, 6) for c in (s1 + s1, s2 + s2, s1 + s2)}
    assert values <= possible and len(values) > 1
    assert np.all(f1["model"]["micro"] - f1["baseline"]["micro"] > 0)  # paired: the same draws for both
