"""Face detection and alignment: a known similarity is undone; bad clips are recorded, not fatal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from defaults import PARAMS

from apexspot.clips import synthetic
from apexspot.clips.manifest import Clip
from apexspot.clips.align import align_to_file, for_reduced
from apexspot.core.face import FaceDetector, apply_transform, similarity_transform, target_landmarks
from apexspot.core.workers import _init


@pytest.fixture(scope="module")
def detector() -> FaceDetector:
    return FaceDetector()


@pytest.fixture(scope="module")
def face() -> np.ndarray:
    subject = synthetic.sample_subject(1, np.random.default_rng(0))  # astronaut, face ~250 px
    canvas, _ = synthetic.subject_canvas(subject)
    return canvas.astype(np.uint8)


def test_similarity_transform_maps_a_template_face_exactly() -> None:
    p = PARAMS.face.replace(size=128, margin=0.3, eye_line=0.4)
    target = target_landmarks(p)
    assert np.allclose(target[0], [0.3 * 128, 0.4 * 128]) and np.allclose(target[1], [0.7 * 128, 0.4 * 128])
    known = cv2.getRotationMatrix2D((0, 0), 20, 3.0)  # a rotated, scaled, shifted face
    known[:, 2] = [310, 215]
    face = apply_transform(known, target)
    assert np.allclose(apply_transform(similarity_transform(face, p), face), target, atol=1e-6)


def test_reduced_decode_transform_matches_full_size(face: np.ndarray) -> None:
    grey = cv2.cvtColor(face, cv2.COLOR_BGR2GRAY)
    matrix = similarity_transform(np.array([[270, 200], [390, 200], [330, 260], [290, 320], [370, 320]], float),
                                  PARAMS.face)
    full = cv2.warpAffine(grey, matrix, (128, 128), flags=cv2.INTER_LINEAR).astype(float)
    half = cv2.resize(grey, (320, 240), interpolation=cv2.INTER_AREA)
    reduced = cv2.warpAffine(half, for_reduced(matrix, 2), (128, 128), flags=cv2.INTER_LINEAR).astype(float)
    assert np.abs(full - reduced)[10:-10, 10:-10].mean() < 3  # same picture, within resampling noise


@pytest.mark.parametrize("angle,scale,shift", [(8.0, 1.1, (15, -10)), (-12.0, 0.9, (-20, 5))])
def test_alignment_recovers_known_rotation_scale_shift(detector: FaceDetector, face: np.ndarray,
                                                       angle: float, scale: float, shift: tuple) -> None:
    p = PARAMS.face
    first = detector.detect(face, p.views)
    assert first is not None and first.detector == "mtcnn"
    known = cv2.getRotationMatrix2D((320, 240), angle, scale)
    known[:, 2] += shift
    moved = cv2.warpAffine(face, known, (640, 480), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT101)
    second = detector.detect(moved, p.views)
    assert second is not None
    expected = apply_transform(similarity_transform(first.landmarks, p), first.landmarks)
    # The same facial points, seen in the moved photo and aligned from its own detection:
    got = apply_transform(similarity_transform(second.landmarks, p), apply_transform(known, first.landmarks))
    assert np.abs(got - expected).max() < 1.0


def write_clip(folder: Path, image: np.ndarray, n: int = 4) -> Clip:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        cv2.imwrite(str(folder / f"img{10 + i}.jpg"), image)
    return Clip(clip_id=f"test/{folder.name}", subject="test-01", dataset="test", filename=folder.name,
                onset=10, apex=11, offset=10 + n - 1, n_frames=n, frames_dir=str(folder),
                frame_pattern="img{frame}.jpg", emotion="", action_units="", objective_class="",
                sheet="s.xlsx", sheet_row=2)


@pytest.fixture
def in_worker(detector: FaceDetector):
    _init(lambda: {"detector": detector}, ())


def test_aligned_clip_is_saved(tmp_path: Path, face: np.ndarray, in_worker) -> None:
    clip = write_clip(tmp_path / "good", face)
    result = align_to_file((clip, tmp_path / "out", PARAMS.face))
    assert result["detector"] == "mtcnn" and result["frames"] == 4
    with np.load(tmp_path / "out" / "test" / "good.npz", allow_pickle=False) as data:
        assert data["frames"].shape == (4, 128, 128) and data["frames"].dtype == np.uint8
        assert data["frame_numbers"].tolist() == [10, 11, 12, 13]
        assert data["transform"].shape == (2, 3) and str(data["detector"]) == "mtcnn"


def test_no_face_is_recorded(tmp_path: Path, in_worker) -> None:
    wall = np.random.default_rng(0).integers(90, 110, (480, 640, 3)).astype(np.uint8)
    result = align_to_file((write_clip(tmp_path / "wall", wall), tmp_path / "out", PARAMS.face))
    assert result.reason == "no_face" and "img10.jpg" in result.detail
    assert not (tmp_path / "out" / "test" / "wall.npz").exists()


def test_corrupt_and_missing_frames_are_recorded(tmp_path: Path, face: np.ndarray, in_worker) -> None:
    clip = write_clip(tmp_path / "bad", face)
    frame = Path(clip.frames_dir) / "img12.jpg"
    frame.write_bytes(frame.read_bytes()[:2000])  # truncated mid-scan
    result = align_to_file((clip, tmp_path / "out", PARAMS.face))
    assert result.reason == "corrupt_frame" and str(frame) in result.detail
    frame.unlink()
    result = align_to_file((clip, tmp_path / "out", PARAMS.face))
    assert result.reason == "missing_frame" and str(frame) in result.detail


def test_wrong_size_frame_is_recorded(tmp_path: Path, face: np.ndarray, in_worker) -> None:
    clip = write_clip(tmp_path / "size", face)
    cv2.imwrite(str(Path(clip.frames_dir) / "img13.jpg"), face[:240, :320])
    result = align_to_file((clip, tmp_path / "out", PARAMS.face))
    assert result.reason == "wrong_frame_size" and "img13.jpg" in result.detail


def test_haar_fallback_when_mtcnn_is_off(face: np.ndarray) -> None:
    found = FaceDetector(use_mtcnn=False).detect(face)
    assert found is not None and found.detector == "haar"
    eyes = found.landmarks[:2]
    assert eyes[0][0] < eyes[1][0] and abs(eyes[0][1] - eyes[1][1]) < 1e-6


def test_landmarks_do_not_depend_on_the_cpus_vector_instructions_or_threads(tmp_path: Path) -> None:
    """MTCNN runs on TensorFlow's oneDNN kernels, which sum in another order on AVX-512 than on
    AVX2 and with another thread count: unpinned, the landmarks (and every aligned byte) differ
    between machines. The detector pins both; a machine's settings must not reach it."""
    code = (
        "import numpy as np, sys\n"
        "from apexspot.clips import synthetic\n"
        "from apexspot.core.face import FaceDetector\n"
        "canvas, _ = synthetic.subject_canvas(synthetic.sample_subject(1, np.random.default_rng(1)))\n"
        "found = FaceDetector().detect(canvas.astype(np.uint8), views=4)\n"
        "sys.stdout.write(found.landmarks.tobytes().hex())\n")
    outputs = set()
    for isa, threads in (("AVX512_CORE", "2"), ("AVX2", "1"), ("AVX2", "2")):
        env = {**os.environ, "ONEDNN_MAX_CPU_ISA": isa, "TF_NUM_INTRAOP_THREADS": threads,
               "TF_CPP_MIN_LOG_LEVEL": "3"}
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path)
        assert done.returncode == 0, done.stderr[-2000:]
        outputs.add(done.stdout)
    assert len(outputs) == 1
