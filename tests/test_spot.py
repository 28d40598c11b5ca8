"""`apexspot spot` on a recording of one's own: a video file or a folder of frames."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from defaults import CHANNELS, PARAMS, frame_variant, tiny_recognisers

from apexspot.clips import synthetic
from apexspot.clips.spotters import spotter
from apexspot.clips.trained import TrainedFold
from apexspot.core.frames import BadFrame
from apexspot.spot.source import frame_files, read_window


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("spot")
    subjects, clips = synthetic.sample_dataset(2, 1, seed=4)
    spec = clips[1]
    spec.onset, spec.apex, spec.offset, spec.blink_start = 100, 112, 130, -1
    frames = synthetic.render_clip(subjects[1], spec)
    folder = root / "frames"
    folder.mkdir()
    for i, frame in enumerate(frames):  # numbered as a CASME II clip folder: from the recording's frame 46
        cv2.imwrite(str(folder / f"img{46 + i}.png"), frame)
    video = root / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 25, (640, 480))
    for frame in frames:
        writer.write(frame)
    writer.release()
    models = root / "models"
    models.mkdir()
    rng = np.random.default_rng(0)
    for k in (0, 1):  # tiny trained models: a few steps on random flow
        s = spotter(frame_variant(convs=3, norm="none", attention=False), CHANNELS)
        model = s.build((75, 75, 3))
        model.compile(optimizer="adam", loss="mse")
        model.fit(rng.normal(size=(16, 75, 75, 3)).astype("float32"), rng.random((16, 1)).astype("float32"),
                  epochs=2, verbose=0)
        TrainedFold(model, s).save(models / f"fold_{k}.keras")
    (models / "params.yaml").write_text(yaml.safe_dump({
        "face": PARAMS.face.replace(views=1).model_dump(), "flow": PARAMS.flow.model_dump(),
        "spot": PARAMS.spot.model_dump(), "recordings": PARAMS.recordings.model_dump()}))
    tiny_recognisers(root / "recognisers", "flow", (75, 75, 3))  # beside models/, where the pipeline puts them
    return {"root": root, "folder": folder, "video": video, "models": models, "n": len(frames)}


def spot(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "apexspot.cli", "spot", *args], cwd=cwd,
                          capture_output=True, text=True)


def test_spot_a_video_with_json_and_plot(recording: dict) -> None:
    plot = recording["root"] / "curve.png"
    done = spot(str(recording["video"]), "--models", str(recording["models"]), "--onset", "2",
                "--offset", "25", "--json", "--plot", str(plot), cwd=recording["root"])
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["frames"] == recording["n"] and (result["onset"], result["offset"]) == (2, 25)
    assert 2 <= result["apex"] <= 25 and len(result["scores"]) == 24
    assert result["numbering"] == "0-based frame index" and result["fps"] == 25
    assert result["apex_seconds"] == pytest.approx(result["apex"] / 25)
    assert result["models"] == ["fold_0.keras", "fold_1.keras"]
    assert result["class"] in ("negative", "positive", "surprise") and 1 / 3 <= result["class_probability"] <= 1
    assert result["recognisers"] == ["fold_0.keras", "fold_1.keras"] and result["scheme"] == "composite"
    picture = cv2.imread(str(plot))
    assert picture.shape[2] == 3 and picture.shape[1] > 2.5 * picture.shape[0]  # four panels beside the curve
    assert done.stderr.strip() == ""  # no TensorFlow start-up lines, no warnings


def test_spot_a_folder_speaks_in_its_file_numbers(recording: dict) -> None:
    last = 46 + recording["n"] - 1
    done = spot(str(recording["folder"]), "--models", str(recording["models"]), "--onset", "50", "--json",
                cwd=recording["root"])
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["onset"], result["offset"]) == (50, last) and 50 <= result["apex"] <= last
    assert result["onset_file"] == "img50.png" and result["apex_file"] == f"img{result['apex']}.png"
    assert result["numbering"] == "file name number" and len(result["scores"]) == last - 50 + 1
    text = spot(str(recording["folder"]), "--models", str(recording["models"]), "--onset", "50",
                cwd=recording["root"]).stdout
    seconds = (result["apex"] - 46) / 200  # from the folder's first frame, at the 200 fps a folder is assumed to have
    assert result["fps"] == 200 and result["fps_from"].startswith("assumed")
    assert result["apex_seconds"] == pytest.approx(seconds)
    assert text.startswith(f"apex at frame {result['apex']} (img{result['apex']}.png, {seconds:.3f} s), window 50..{last}")
    assert f"\n{result['class']} (probability {result['class_probability']:.2f}); emotion by 2 fold classifiers" in text


def test_spot_says_when_it_has_no_emotion_classifiers(recording: dict, tmp_path: Path) -> None:
    done = spot(str(recording["folder"]), "--models", str(recording["models"]), "--onset", "50",
                "--recognisers", str(tmp_path), cwd=recording["root"])
    assert done.returncode == 0, done.stderr
    assert f"emotion: not recognised: no emotion classifiers in {tmp_path}" in done.stdout


def test_the_emotion_is_the_folds_mean_probability(tmp_path: Path) -> None:
    from apexspot.recognition.recogniser import classify, load_all

    made = tiny_recognisers(tmp_path, "flow", (75, 75, 3), folds=3)
    x = np.random.default_rng(1).normal(size=(4, 75, 75, 3)).astype("float32")
    mean = np.mean([r.probabilities(x) for r in made], axis=0)
    got = classify(load_all(tmp_path), x, tmp_path)
    assert [c for c, _ in got] == [made[0].classes[k] for k in mean.argmax(1)]
    assert [q for _, q in got] == pytest.approx(mean.max(1).tolist(), abs=1e-6)


def test_spot_checks_its_arguments_before_loading_tensorflow(recording: dict) -> None:
    code = ("import sys\nfrom apexspot.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n"
            "    print(e.code, file=sys.stderr)\nprint('tensorflow' in sys.modules, 'keras' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code, "spot", str(recording["folder"]), "--models",
                           str(recording["models"]), "--onset", "10"], capture_output=True, text=True)
    assert done.stdout.strip() == "False False", done.stdout + done.stderr
    assert f"must satisfy 46 <= onset < offset <= {46 + recording['n'] - 1}" in done.stderr


@pytest.mark.parametrize("case,message", [
    ("no_models", "no trained models"),
    ("bad_video", "OpenCV cannot read any frame"),
    ("no_face", "no usable face in frames 0..3 (0..3 no_face): nothing to spot"),
    ("outside", "must satisfy 0 <= onset < offset <= "),
])
def test_spot_errors(recording: dict, tmp_path: Path, case: str, message: str) -> None:
    source, models, extra = str(recording["video"]), str(recording["models"]), []
    if case == "no_models":
        models = str(tmp_path)
    elif case == "bad_video":
        (tmp_path / "broken.mp4").write_bytes(b"not a video at all")
        source = str(tmp_path / "broken.mp4")
    elif case == "no_face":
        for i in range(4):
            cv2.imwrite(str(tmp_path / f"f{i}.png"), np.full((240, 320, 3), 120, np.uint8))
        source = str(tmp_path)
    else:
        extra = ["--onset", "5", "--offset", str(recording["n"] + 10)]
    done = spot(source, "--models", models, *(extra or ["--onset", "0"]), cwd=recording["root"])
    assert done.returncode != 0 and message in done.stderr and "Traceback" not in done.stderr


def test_spot_uses_only_the_clip_frames_in_a_folder(tmp_path: Path, capsys) -> None:
    for n in (46, 47, 48, 100):
        cv2.imwrite(str(tmp_path / f"img{n}.jpg"), np.full((48, 64, 3), n, np.uint8))
    cv2.imwrite(str(tmp_path / "thumbnail.jpg"), np.zeros((10, 10, 3), np.uint8))
    cv2.imwrite(str(tmp_path / "contact_sheet_1.png"), np.zeros((10, 10, 3), np.uint8))
    (tmp_path / "notes.txt").write_text("x")
    assert [p.name for p in frame_files(tmp_path)] == ["img46.jpg", "img47.jpg", "img48.jpg", "img100.jpg"]
    assert "thumbnail.jpg" in capsys.readouterr().err


def test_a_frame_of_another_size_is_an_unusable_frame_naming_the_file(tmp_path: Path) -> None:
    for n in (1, 2, 3):
        cv2.imwrite(str(tmp_path / f"img{n}.jpg"), np.zeros((48, 64, 3) if n != 2 else (40, 64, 3), np.uint8))
    first, odd, last = read_window(tmp_path).frames()
    assert first.shape == last.shape == (48, 64, 3) and isinstance(odd, BadFrame) and odd.reason == "frame_size"
    assert re.search(r"img2\.jpg is 64x40; the recording's frames are 64x48 \(as img1\.jpg\)", odd.detail)


def test_spot_reports_where_the_face_left_and_spots_nothing_there(recording: dict, tmp_path: Path) -> None:
    """A video whose face is gone from its 40th frame on (a wall where the face was): the span
    is reported with its frames, seconds and reason, and the apex and scores stay out of it."""
    subjects, clips = synthetic.sample_dataset(2, 1, seed=4)
    spec = clips[1]
    spec.onset, spec.apex, spec.offset, spec.blink_start = 100, 112, 179, -1
    frames = synthetic.render_clip(subjects[1], spec)
    video = tmp_path / "leaves.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 25, (640, 480))
    for i, frame in enumerate(frames):
        writer.write(frame if i < 40 else np.full_like(frame, 128))
    writer.release()
    done = spot(str(video), "--models", str(recording["models"]), "--onset", "0", "--offset", "79", "--json",
                cwd=recording["root"])
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    spans = result["unusable"]
    assert spans and spans[-1]["last"] == 79 and spans[-1]["reason"] in ("no_face", "occluded", "out_of_frame")
    first_bad = min(s["first"] for s in spans)
    assert 30 <= first_bad <= 40  # the face's last frames before it goes are padded out too
    assert spans[-1]["end_s"] == pytest.approx(80 / 25) and spans[0]["start_s"] == pytest.approx(first_bad / 25)
    assert result["apex"] < first_bad
    assert all(s is None for s in result["scores"][40:]) and all(s is not None for s in result["scores"][:first_bad])
    text = spot(str(video), "--models", str(recording["models"]), "--onset", "0", "--offset", "79",
                cwd=recording["root"]).stdout
    assert "no usable face in" in text
    assert all(f"frames {s['first']}..{s['last']} " in text for s in spans)
    covered = sorted(f for s in spans for f in range(s["first"], s["last"] + 1))
    assert covered == list(range(first_bad, 80))  # one stretch, however its reasons split it
