"""Bad sheet cells, frames and faces: each a defect of its row, or a skip of its clip with
the reason; never a traceback."""


from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from defaults import PARAMS

from apexspot.clips.manifest import check_window, frame_number
from apexspot.clips.align import onset_transform
from apexspot.core.face import Detection, FrameError, read_frame

ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------ sheet cells

@pytest.mark.parametrize("cell,number", [
    ("46", 46), (" 46 ", 46), (46.0, 46), ("²", None), ("٣", None), ("1e3", None), ("12.5", None),
    (12.5, None), (True, None), (-3, None), (10**12, None), ("9" * 5000, None), ("/", None), (None, None),
])
def test_frame_numbers_are_parsed_strictly(cell, number) -> None:
    assert frame_number(cell) == number


@pytest.mark.parametrize("onset,apex,offset,reason", [
    (10, 5, 40, "apex_outside_window"), (40, 40, 10, "onset_not_before_offset"),
    (1, 500000, 999999, "window_too_long"), ("²", 5, 9, "onset_not_a_number"),
])
def test_bad_windows_are_row_defects(onset, apex, offset, reason) -> None:
    assert check_window(onset, apex, offset)[0] == reason

# ------------------------------------------------------------------ frames

@pytest.fixture(scope="module")
def jpeg() -> bytes:
    image = cv2.GaussianBlur((np.random.default_rng(0).random((120, 160)) * 255).astype(np.uint8), (0, 0), 2)
    return cv2.imencode(".jpg", image)[1].tobytes()


def damaged(data: bytes) -> bytes:
    out = bytearray(data)
    middle = len(out) // 2  # scan data overwritten in the middle; the end marker stays
    out[middle:middle + 40] = np.random.default_rng(1).integers(0, 255, 40).astype(np.uint8).tobytes()
    return bytes(out)


@pytest.mark.parametrize("case,reason", [
    ("damaged in the middle", "corrupt_frame"), ("truncated", "corrupt_frame"), ("not an image", "corrupt_frame"),
    ("missing", "missing_frame"), ("trailing bytes", None), ("intact", None),
])
def test_frames_are_decoded_strictly(tmp_path: Path, jpeg: bytes, case: str, reason: str | None) -> None:
    path = tmp_path / "img1.jpg"
    data = {"damaged in the middle": damaged(jpeg), "truncated": jpeg[: len(jpeg) // 2],
            "not an image": b"hello", "trailing bytes": jpeg + b"\x00camera-footer" * 8, "intact": jpeg}.get(case)
    if data is not None:
        path.write_bytes(data)
    if reason is None:
        assert read_frame(path).shape == (120, 160) and read_frame(path, reduction=2).shape == (60, 80)
        return
    with pytest.raises(FrameError) as err:
        read_frame(path)
    assert err.value.reason == reason and str(path) in err.value.detail

# ------------------------------------------------------------------ faces

class OneFace:
    def __init__(self, landmarks: np.ndarray) -> None:
        self.landmarks = landmarks

    def detect(self, image, views=1):
        return Detection(np.array([0, 0, 50, 50.0]), self.landmarks, 0.99, "mtcnn")


@pytest.mark.parametrize("landmarks,reason", [
    (np.array([[300, 200], [320, 200], [310, 215], [302, 228], [318, 228.0]]), "face_too_small"),
    (np.full((5, 2), 300.0), "unusable_face"),
    (np.array([[300, 200], [np.nan, 200], [310, 215], [302, 228], [318, 228.0]]), "unusable_face"),
])
def test_faces_the_alignment_cannot_use_skip_the_clip(landmarks, reason) -> None:
    with pytest.raises(FrameError) as err:
        onset_transform(np.zeros((480, 640, 3), np.uint8), "img46.jpg", OneFace(landmarks), PARAMS.face)
    assert err.value.reason == reason and "img46.jpg" in err.value.detail
