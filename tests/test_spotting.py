"""Scores to apex, baselines, and the error figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from defaults import PARAMS

from apexspot.clips import baselines, synthetic
from apexspot.clips.apex import apex_index
from apexspot.clips.metrics import group_table, report, summary
from apexspot.core.face import apply_transform, similarity_transform
from apexspot.core.flow import clip_flow


def test_argmax_and_ties() -> None:
    assert apex_index([0, 1, 3, 2]) == 2
    assert apex_index([0, 5, 1, 5]) == 1  # ties go to the first


def test_sliding_window_ignores_a_spike() -> None:
    scores = np.zeros(30)
    scores[3] = 10  # one spiky frame
    scores[18:25] = [2, 3, 4, 5, 4, 3, 2]
    assert apex_index(scores, "argmax") == 3
    assert apex_index(scores, "window", 7) == 21


def test_sliding_window_at_the_edges_and_short_clips() -> None:
    assert apex_index([9, 9, 9, 1, 1, 1, 1], "window", 3) == 1  # the run can start at frame 0
    assert apex_index([1, 1, 1, 1, 9, 9, 9], "window", 3) == 5  # ...and end at the last frame
    assert apex_index([1, 2, 3], "window", 9) == 1  # shorter than the window: its centre
    assert apex_index([4, 4, 1, 1, 4, 4], "window", 2) == 0  # tied runs: the first, left middle


def test_bad_scores_are_refused() -> None:
    with pytest.raises(ValueError, match="no scores"):
        apex_index([])
    with pytest.raises(ValueError, match="NaN"):
        apex_index([0.1, float("nan")])
    with pytest.raises(ValueError, match="argmax, window, median"):
        apex_index([1, 2], "mode")


def test_centre_is_exact_arithmetic() -> None:
    assert baselines.centre(46, 86) == 66
    assert baselines.centre(46, 87) == 66  # half frames round down
    assert baselines.centre(5126, 5127) == 5126


@pytest.fixture(scope="module")
def distracted_clip():
    """A synthetic clip with a lip-corner pull, a blink well before the apex, drift and noise."""
    subjects, clips = synthetic.sample_dataset(2, 1, seed=4)
    subject, spec = subjects[1], clips[1]
    spec.action, spec.side, spec.amplitude = "12", "both", 3.0
    spec.onset, spec.apex, spec.offset = 100, 125, 180
    spec.blink_start, spec.blink_length = 150, 24  # closed at frame 158, well after the apex
    spec.blink_depth = 4.0  # a typical lid travel (3-6 px drawn), set so the test does not hang on the draw order
    frames = [f.mean(-1).astype(np.uint8) for f in synthetic.render_clip(subject, spec)]
    _, marks = synthetic.subject_canvas(subject)
    points = np.array([marks[k] for k in ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")])
    matrix = similarity_transform(points, PARAMS.face)
    import cv2

    aligned = np.stack([cv2.warpAffine(f, matrix, (128, 128)) for f in frames])
    landmarks = apply_transform(matrix, points)
    flow = clip_flow(aligned, landmarks, PARAMS.flow.replace(channels=["u", "v"], size=75)).flow
    return spec, aligned, landmarks * 75 / 128, flow


def test_each_baseline_returns_a_frame_inside_the_window(distracted_clip) -> None:
    spec, aligned, landmarks, flow = distracted_clip
    n = spec.offset - spec.onset + 1
    eyes = landmarks[:2]
    radius = 0.4 * np.linalg.norm(eyes[1] - eyes[0])
    picks = {
        "max_flow": baselines.max_flow_magnitude(flow[..., 0], flow[..., 1]),
        "max_strain": baselines.max_strain_eyes_masked(flow[..., 0], flow[..., 1], eyes, radius),
        "max_lbp": baselines.max_lbp_distance(aligned),
    }
    assert all(0 <= i < n for i in picks.values()), picks
    # masking the eyes keeps the blink from winning
    blink_peak = spec.blink_start + int(0.33 * spec.blink_length) - spec.onset
    assert abs(picks["max_strain"] - blink_peak) > 3, picks


def test_eye_mask() -> None:
    keep = baselines.eye_mask((20, 20), np.array([[5, 5], [15, 5]]), 2)
    assert not keep[5, 5] and not keep[5, 15] and keep[15, 10]


def test_summary_and_report_on_a_hand_made_table() -> None:
    assert summary(np.array([0, -2, 5, 7, 12])) == {"mae": 5.2, "median_ae": 5.0, "within_5": 0.6, "within_10": 0.8}
    table = pd.DataFrame({
        "apex": [10, 20, 30, 40], "fold": [0, 0, 1, 1], "dataset": ["casme2", "samm", "casme2", "samm"],
        "subject": ["a", "b", "c", "d"],
        "model": [12, 20, 24, 40], "centre": [10, 30, 30, 30],
    })
    r = report(table, ["model", "centre"])
    assert r["clips"] == 4 and r["subjects"] == 4
    assert r["model"]["mae"] == 2.0 and r["model"]["within_5"] == 0.75 and r["model"]["median_ae"] == 1.0
    assert r["centre"] == {"mae": 5.0, "ci_low": r["centre"]["ci_low"], "ci_high": r["centre"]["ci_high"]}
    assert r["diff"]["mean"] == -3.0
    # Headline numbers only: nothing per fold or per dataset, nothing nested deeper than one level.
    assert all(not isinstance(v, dict) for f in r.values() if isinstance(f, dict) for v in f.values())
    per_fold = group_table(table, ["model", "centre"], ["fold"])
    assert per_fold.to_dict("records") == [{"fold": 0, "clips": 2, "subjects": 2, "model": 1.0, "centre": 5.0},
                                           {"fold": 1, "clips": 2, "subjects": 2, "model": 3.0, "centre": 5.0}]
    per_dataset = group_table(table, ["model", "centre"], ["dataset"], intervals=True)
    assert per_dataset["dataset"].tolist() == ["casme2", "samm"] and per_dataset["model"].tolist() == [4.0, 0.0]
    assert per_dataset["model_minus_centre"].tolist() == [4.0, -10.0]
    assert (per_dataset["model_ci_low"] <= per_dataset["model"]).all()
