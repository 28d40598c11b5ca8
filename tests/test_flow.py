"""Optical flow: head motion is removed, a 1-px local motion survives where and when it happens."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from defaults import PARAMS

from apexspot.clips import synthetic
from apexspot.clips.manifest import Clip
from apexspot.core import arrayfiles
from apexspot.core.config import FlowParams
from apexspot.core.errors import ParamsError
from apexspot.core.face import apply_transform, similarity_transform
from apexspot.core.flow import clip_flow, flow_state, flow_to_file
from apexspot.core.workers import _init

T, PEAK = 21, 12


@pytest.fixture(scope="module")
def still() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A real face (grey, 640x480), its onset alignment transform and aligned landmarks."""
    subject = synthetic.sample_subject(2, np.random.default_rng(2))  # Grace Hopper
    canvas, marks = synthetic.subject_canvas(subject)
    grey = cv2.cvtColor(canvas.astype(np.uint8), cv2.COLOR_BGR2GRAY)
    points = np.array([marks[k] for k in ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")])
    matrix = similarity_transform(points, PARAMS.face)
    return grey, matrix, apply_transform(matrix, points)


def noisy(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.clip(image + rng.normal(0, 1.0, image.shape), 0, 255).astype(np.uint8)


def test_global_translation_gives_near_zero_flow(still) -> None:
    grey, matrix, marks = still
    rng = np.random.default_rng(0)
    frames = []
    for t in range(T):  # the head drifts 3 px right, 1.5 px down and turns 0.6 degrees
        head = cv2.getRotationMatrix2D((320, 240), 0.03 * t, 1.0)
        head[:, 2] += [0.15 * t, 0.075 * t]
        moved = cv2.warpAffine(grey, head, (640, 480), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT101)
        frames.append(noisy(cv2.warpAffine(moved.astype(np.float32), matrix, (128, 128)), rng))
    frames = np.stack(frames)
    kept = clip_flow(frames, marks, PARAMS.flow.replace(method="dis", remove_global=False, scale=1.0)).flow
    removed = clip_flow(frames, marks, PARAMS.flow.replace(method="dis", scale=1.0)).flow
    face = (slice(15, 60), slice(15, 60))
    assert np.median(kept[-1][face][..., 2]) > 0.8  # ~1.2 aligned px of drift at the last frame
    assert np.percentile(removed[-1][face][..., 2], 95) < 0.15


@pytest.mark.parametrize("method", ["dis", "farneback", "tvl1"])
def test_local_one_pixel_warp_is_found_where_and_when(still, method: str) -> None:
    grey, matrix, marks = still
    aligned = cv2.warpAffine(grey.astype(np.float32), matrix, (128, 128))
    corner = marks[4]  # image-right mouth corner
    yy, xx = np.mgrid[0:128, 0:128].astype(np.float32)
    bump = np.exp(-0.5 * ((xx - corner[0]) ** 2 + (yy - corner[1]) ** 2) / 4.0**2)
    rng = np.random.default_rng(1)
    frames = []
    for t in range(T):  # the corner moves up-outward, 1 px at frame PEAK, back to rest after
        amount = np.sin(np.pi * t / (2 * PEAK)) if t <= PEAK else np.cos(np.pi * (t - PEAK) / (2 * (T - 1 - PEAK)))
        dx, dy = 0.6 * amount * bump, -0.8 * amount * bump
        frames.append(noisy(cv2.remap(aligned, (xx - dx).astype(np.float32), (yy - dy).astype(np.float32), cv2.INTER_CUBIC), rng))
    p = PARAMS.flow.replace(method=method, scale=1.0)
    flow = clip_flow(np.stack(frames), marks, p).flow
    magnitude = flow[..., 2]
    where = np.unravel_index(np.argmax(magnitude[PEAK]), magnitude[PEAK].shape)
    expected = corner * p.size / 128
    assert np.hypot(where[1] - expected[0], where[0] - expected[1]) < 5  # 75-grid pixels
    cx, cy = np.round(expected).astype(int)
    region = magnitude[:, cy - 4:cy + 5, cx - 4:cx + 5].mean((1, 2))
    assert abs(int(np.argmax(region)) - PEAK) <= 1
    assert magnitude[0].max() == 0  # frame 0 is the reference


def test_flow_file_and_preview(tmp_path: Path, still) -> None:
    grey, matrix, marks = still
    frames = np.stack([cv2.warpAffine(grey, matrix, (128, 128))] * 5)
    clip = Clip("test/sub01/EP01", "test-01", "test", "EP01", 10, 12, 14, 5, "", "", "", "", "", "s.xlsx", 2)
    arrayfiles.save(arrayfiles.clip_file(tmp_path / "aligned", clip.clip_id), frames=frames,
                   aligned_landmarks=marks.astype(np.float32), frame_numbers=np.arange(10, 15, dtype=np.int32))
    p = PARAMS.flow.replace(channels=["u", "v", "magnitude", "strain"])
    _init(flow_state, (p.method,))
    result = flow_to_file((clip, tmp_path / "aligned", tmp_path / "flow", tmp_path / "preview", p))
    assert result == {"clip_id": clip.clip_id, "frames": 5}
    data = arrayfiles.load(tmp_path / "flow" / "test" / "sub01" / "EP01.npz")
    assert data["flow"].shape == (5, 75, 75, 4) and data["flow"].dtype == np.float16
    assert data["channels"].tolist() == ["u", "v", "magnitude", "strain"] and float(data["scale"]) == 4.0
    assert data["frame_numbers"].tolist() == [10, 11, 12, 13, 14] and "times 4.0" in str(data["normalisation"])
    preview = cv2.imread(str(tmp_path / "preview" / "test__sub01__EP01.png"))
    assert preview.shape == (256 + 28, 4 * 256, 3)  # onset | apex | flow | colour key
    key = preview[28:, 3 * 256:]
    assert key[128, 128].max() < 40 and key[128, 250].max() > 200  # dark centre, bright rim
    assert np.abs(key[128, 250].astype(int) - key[128, 6].astype(int)).max() > 100  # opposite directions differ


def test_previews_come_from_different_subjects() -> None:
    from apexspot.core.flow import preview_clips

    clips = [Clip(f"d/sub{s}/EP{n}", f"d-{s}", "d", f"EP{n}", 1, 2, 3, 3, "", "", "", "", "", "s.xlsx", 2)
             for n, s in enumerate((1, 1, 1, 2, 3))]
    assert preview_clips(clips, 3) == {"d/sub1/EP0", "d/sub2/EP3", "d/sub3/EP4"}
    assert preview_clips(clips[:3], 2) == {"d/sub1/EP0", "d/sub1/EP1"}  # one subject: its first clips


def test_missing_aligned_clip_is_recorded(tmp_path: Path) -> None:
    clip = Clip("test/sub01/EP02", "test-01", "test", "EP02", 10, 12, 14, 5, "", "", "", "", "", "s.xlsx", 2)
    _init(flow_state, ("dis",))
    result = flow_to_file((clip, tmp_path / "aligned", tmp_path / "flow", None, PARAMS.flow))
    assert result.reason == "unreadable_aligned_clip" and "EP02.npz" in result.detail and result.stage == "flow"


def test_bad_params_are_refused() -> None:
    with pytest.raises(ParamsError, match="flow: method: 'lucas' is not allowed"):
        FlowParams.from_params({**PARAMS.flow.model_dump(), "method": "lucas"}, "flow")
    with pytest.raises(ParamsError, match="flow: channels.1: 'depth' is not allowed"):
        FlowParams.from_params({**PARAMS.flow.model_dump(), "channels": ["u", "depth"]}, "flow")


@pytest.mark.parametrize("remove_global,ending", [(True, "; head motion removed"), (False, "; head motion kept")])
def test_the_stored_normalisation_note_says_what_a_value_means(remove_global: bool, ending: str) -> None:
    from apexspot.core.flow import normalisation_note

    note = normalisation_note(PARAMS.flow.replace(remove_global=remove_global, size=75, scale=4.0))
    assert note == "displacement in pixels of the 75x75 grid, times 4.0" + ending
