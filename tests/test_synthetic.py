"""The synthetic stand-in: deterministic, real-like timing, a subtle expression peaking at apex."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from apexspot.clips import casme2, synthetic


@pytest.fixture(scope="module")
def population() -> tuple[list[synthetic.Subject], list[synthetic.ClipSpec]]:
    return synthetic.sample_dataset(subjects=50, clips_per_subject=10, seed=0)


def test_timing_matches_real_datasets(population) -> None:
    _, clips = population
    length = np.array([c.offset - c.onset for c in clips])
    where = np.array([(c.apex - c.onset) / (c.offset - c.onset) for c in clips])
    assert length.min() >= 23 and length.max() <= 140
    assert 60 <= length.mean() <= 80 and 55 <= np.median(length) <= 75
    assert 0.46 <= where.mean() <= 0.54 and 0.12 <= where.std() <= 0.22
    assert all(c.onset < c.apex < c.offset for c in clips)
    centre_mae = np.mean([abs(c.apex - (c.onset + c.offset) / 2) for c in clips])
    assert 6 <= centre_mae <= 13  # real data: 8.3 (CASME II), 10.2 (SAMM)


def test_expressions_are_subtle_and_distractors_common(population) -> None:
    subjects, clips = population
    assert all(1.0 <= c.amplitude <= 3.0 for c in clips)
    assert 0.45 <= np.mean([c.blink_start >= 0 for c in clips]) <= 0.75
    assert len({(s.photo, s.mirror) for s in subjects}) == 6
    assert all(230 <= s.face_width <= 270 for s in subjects)


def test_profile_peaks_at_apex_and_is_asymmetric() -> None:
    _, clips = synthetic.sample_dataset(3, 3, seed=1)
    for c in clips:
        frames = np.arange(c.onset, c.offset + 1)
        p = synthetic.expression_profile(c, frames)
        assert frames[np.argmax(p)] == c.apex and p.max() == pytest.approx(1.0)
        assert p[0] == 0 and p[-1] == 0
        assert np.all(np.diff(p[: c.apex - c.onset + 1]) >= 0) and np.all(np.diff(p[c.apex - c.onset:]) <= 0)


def clip_with(**changes) -> tuple[synthetic.Subject, synthetic.ClipSpec]:
    subjects, clips = synthetic.sample_dataset(2, 1, seed=4)
    spec = clips[1]
    for k, v in changes.items():
        setattr(spec, k, v)
    return subjects[1], spec


def test_deformation_peaks_at_apex_and_stays_within_3px() -> None:
    subject, spec = clip_with(action="12", side="both", amplitude=2.0)
    images = [cv2.cvtColor(f, cv2.COLOR_BGR2GRAY).astype(np.float32)
              for f in synthetic.render_clip(subject, spec, distractors=False)]
    change = [np.abs(f - images[0]).mean() for f in images]
    assert abs(spec.onset + int(np.argmax(change)) - spec.apex) <= 2
    assert change[-1] < 0.2 * max(change)  # back to neutral at offset
    flow = cv2.calcOpticalFlowFarneback(images[0].astype(np.uint8), images[spec.apex - spec.onset].astype(np.uint8),
                                        None, 0.5, 3, 15, 3, 5, 1.2, 0)
    _, marks = synthetic.subject_canvas(subject)
    x, y = marks["mouth_right"].astype(int)
    local = np.hypot(*np.moveaxis(flow[y - 15:y + 16, x - 15:x + 16], -1, 0))
    assert 1.0 <= local.max() <= 3.5  # the lip corner moved about 2 px, not more
    far = np.hypot(*np.moveaxis(flow[20:80, 20:80], -1, 0))
    assert far.max() < 0.3  # and the background did not


def test_blink_is_a_bigger_motion_than_the_expression() -> None:
    subject, spec = clip_with(action="12", side="both", amplitude=2.0, blink_start=-1)
    _, blinking = clip_with(action="12", side="both", amplitude=2.0)
    blinking.blink_start = blinking.onset + 5
    a = synthetic.render_clip(subject, spec)
    b = synthetic.render_clip(subject, blinking)
    peak = 5 + int(0.33 * blinking.blink_length)
    _, marks = synthetic.subject_canvas(subject)
    x, y = marks["left_eye"].astype(int)
    eye = (slice(y - 12, y + 12), slice(x - 20, x + 20))
    diff = np.abs(b[peak][eye].astype(float) - a[peak][eye].astype(float)).mean()
    assert diff > 5  # grey levels: the lid visibly covers the eye


def test_head_drift_moves_the_whole_frame() -> None:
    subject, spec = clip_with(drift_x=8.0, drift_y=0.0, drift_rot=0.0, sway=0.0, blink_start=-1, noise=0.5)
    frames = synthetic.render_clip(subject, spec)
    first, last = (cv2.cvtColor(f, cv2.COLOR_BGR2GRAY).astype(np.float32) for f in (frames[0], frames[-1]))
    (dx, dy), _ = cv2.phaseCorrelate(first, last)
    expected = 8.0 * (spec.offset - spec.onset) / synthetic.FPS
    assert dx == pytest.approx(expected, abs=0.3) and abs(dy) < 0.3


def test_generate_is_deterministic_and_readable(tmp_path: Path) -> None:
    a = synthetic.generate(tmp_path / "a", 2, 1, seed=7, jpeg_quality=90, workers=1, progress=False)
    synthetic.generate(tmp_path / "b", 2, 1, seed=7, jpeg_quality=90, workers=2, progress=False)
    synthetic.generate(tmp_path / "c", 2, 1, seed=8, jpeg_quality=90, workers=1, progress=False)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert len(files) == sum(c.offset - c.onset + 1 for c in a) + 2
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
    assert (tmp_path / "a" / synthetic.SHEET).read_bytes() != (tmp_path / "c" / synthetic.SHEET).read_bytes()
    v = casme2.read(tmp_path / "a" / synthetic.SHEET, tmp_path / "a" / synthetic.FRAMES_DIR, "synthetic", "raw")
    assert not v.skipped
    assert [(c.onset, c.apex, c.offset) for c in v.kept] == [(c.onset, c.apex, c.offset) for c in a]
    image = cv2.imread(str(v.kept[0].frame_path(v.kept[0].onset)))
    assert image.shape == (480, 640, 3)
