"""The face followed through a long recording: landmarks held in place, unusable spans found."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from defaults import PARAMS

from apexspot.core.face import FaceDetector, apply_transform
from apexspot.recordings import synthetic as sr
from apexspot.recordings.preprocess import mtcnn_only, process, video_frames
from apexspot.recordings.track import FaceTracker, pad_unusable, spans, turn_of

FPS = sr.FPS


@pytest.fixture(scope="module")
def recording():
    """Six seconds of one synthetic subject: a 10-degree head turn and back with a sideways
    shift (frames 20-80), a micro-expression during it, a nod, and a hand over the face
    (frames 120-145); the still face's landmarks are known in every frame."""
    people, _ = sr.sample_dataset(1, 6, seed=3)
    spec = sr.RecordingSpec(1, "0101", 180, drift=(3.0, 2.0), drift_period=200.0, noise=1.5, seed=1, events=[
        sr.Event("turn", 20, 45, 80, amplitude=10.0),
        sr.Event("micro", 50, 54, 60, action="12", amplitude=2.5),
        sr.Event("nod", 90, 90, 110, amplitude=5.0),
        sr.Event("hand", 120, 132, 145, amplitude=1.0),
    ])
    return people[0], spec, list(sr.render(people[0], spec))


@pytest.fixture(scope="module")
def detector():
    return mtcnn_only(FaceDetector(PARAMS.face.min_confidence))


def test_aligned_landmarks_stay_in_place_through_a_head_turn(recording, detector) -> None:
    subject, spec, frames = recording
    tracker = FaceTracker(detector, PARAMS.face, PARAMS.recordings.track, FPS)
    steps = [tracker.step(cv2.cvtColor(f, cv2.COLOR_BGR2GRAY), lambda f=f: f) for f in frames]
    turn = range(20, 81)
    assert all(steps[n - 1].matrix is not None for n in turn)  # followed through the whole turn
    first = next(s for s in steps if s.matrix is not None)
    reference = apply_transform(first.matrix, sr.true_landmarks(spec, subject, steps.index(first) + 1))
    worst = max(float(np.abs(apply_transform(s.matrix, sr.true_landmarks(spec, subject, n)) - reference).max())
                for n, s in enumerate(steps, start=1) if s.matrix is not None and s.segment == first.segment)
    assert worst < 1.0, f"an aligned landmark moved {worst:.2f} px"
    moved = float(np.abs(sr.true_landmarks(spec, subject, 45) - sr.true_landmarks(spec, subject, 1)).max())
    assert moved > 15  # in the frame, the head did move a lot


def test_a_hand_over_the_face_is_an_unusable_span(recording, detector) -> None:
    subject, spec, frames = recording
    result = process(video_frames(iter(frames)), len(frames), FPS, detector, PARAMS.face, PARAMS.recordings.track,
                     PARAMS.recordings.flow)
    found = spans(result.reasons, first=1)
    bad = {n for a, b, _ in found for n in range(a, b + 1)}
    assert set(range(126, 140)) <= bad  # the hand's middle (it covers the face) ...
    pad = int(round(PARAMS.recordings.track.pad_s * FPS))
    assert bad <= set(range(120 - pad, 146 + pad + 1))  # ... and nothing far from it: not the turn, nod or smile
    assert {r for _, _, r in found} <= {"occluded", "no_face"}
    # Flow never reaches across the span: no valid flow whose reference lies in it.
    for j, k in enumerate(result.references):
        for i in np.flatnonzero(result.valid[:, j]):
            assert not bad & set(range(i + 1 - k, i + 2))
    assert result.features.shape == (180, len(result.references), PARAMS.recordings.flow.grid,
                                     PARAMS.recordings.flow.grid, 3)
    assert np.all(result.features[~result.valid] == 0)


def test_a_face_that_turns_away_is_unusable() -> None:
    frontal = np.array([[0, 0], [1, 0], [0.5, 0.55], [0.1, 1.1], [0.9, 1.1]])
    turned = frontal.copy()
    turned[2, 0] = 0.88  # the nose near the right eye's line: a face turned well away
    assert turn_of(frontal) < 0.01 and turn_of(turned) > PARAMS.recordings.track.max_turn


def test_spans_and_padding() -> None:
    reasons = ["", "", "occluded", "occluded", "", "no_face", "", "", ""]
    assert spans(reasons, first=10) == [(12, 13, "occluded"), (15, 15, "no_face")]
    assert pad_unusable(reasons, 1) == ["", "occluded", "occluded", "occluded", "occluded", "no_face", "",
                                        "", ""]
