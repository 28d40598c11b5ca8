"""Bad input on the long-recording path and in `spot`: no truth counted twice, no expression
where no flow exists, no frame that is not there treated as a face, nothing of the user's
written over."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import openpyxl
import pytest
import yaml

from defaults import PARAMS
from project import ENV, ROOT
from test_recording_readers import by_row, casme_sq_dataset, frames, samm_lv_dataset

from apexspot.core.errors import ApexspotError, SheetError
from apexspot.core.face import FaceDetector
from apexspot.core.folds import FoldError, make_folds
from apexspot.core.frames import BadFrame
from apexspot.recordings import casme_sq, samm_lv, synthetic as sr
from apexspot.recordings.preprocess import folder_frames, mtcnn_only, process, span_records
from apexspot.recordings.sequences import Sequence
from apexspot.recordings.spotter import IntervalSpotter
from apexspot.spot.plots import check_plot_path, our_plot
from apexspot.spot.source import read_window


def add_rows(book: Path, rows: list[list]) -> None:
    wb = openpyxl.load_workbook(book)
    for row in rows:
        wb["CASFEcode_final"].append(row)
    wb.save(book)


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "apexspot.cli", *args], cwd=cwd, env=ENV, capture_output=True,
                          text=True, timeout=300)


# ------------------------------------------------------------------ the sheets' truth, counted once

def test_a_duplicated_row_is_dropped_and_reported_with_both_rows(tmp_path: Path) -> None:
    book, rawpic = casme_sq_dataset(tmp_path)
    add_rows(book, [
        [1, "disgust1_1", 5, 8, 12, "4+10", "negative", "micro-expression", "disgust"],  # row 7: row 1 again
        [1, "disgust1_3", 5, 9, 12, "4", "negative", "micro-expression", "disgust"],  # row 8: same interval, other AUs
        [1, "disgust1_4", 30, 32, 34, "4", "negative", "micro-expression", "disgust"],  # row 9: its own expression
    ])
    v = casme_sq.read(book, rawpic)
    skipped = {s.row: s for s in v.skipped}
    assert skipped[7].reason == "duplicate_row" and "row 1" in skipped[7].detail
    assert skipped[8].reason == "duplicate_interval" and "row 1" in skipped[8].detail
    assert "apex" in skipped[8].detail and "action units" in skipped[8].detail
    kept = sorted((i.onset, i.offset, i.sheet_row) for i in v.intervals if i.recording_id == "casme_sq/s15/0101")
    assert kept == [(5, 12, 1), (30, 34, 9)]  # a perfect spotter now scores F1 1.0, not 0.67


def test_a_duplicated_samm_lv_row_is_counted_once(tmp_path: Path) -> None:
    sheet, videos = samm_lv_dataset(tmp_path)
    wb = openpyxl.load_workbook(sheet)
    wb["FACS_Movement_Only"].append(["006", "006_1_1", 1, 5, 8, 12, 8, "Micro - 1/2", "4", None])  # row 16
    wb.save(sheet)
    v = samm_lv.read(sheet, videos)
    assert by_row(v.skipped)[16] == "duplicate_row"
    assert "row 11" in next(s.detail for s in v.skipped if s.row == 16)
    assert sum(i.onset == 5 and i.offset == 12 for i in v.intervals) == 1


def test_two_folders_for_one_casme_sq_recording_stop_ingest_naming_both(tmp_path: Path) -> None:
    book, rawpic = casme_sq_dataset(tmp_path)
    frames(rawpic / "s15" / "15_0101otherclip", "img{:03d}.jpg", 20)
    with pytest.raises(SheetError) as err:
        casme_sq.read(book, rawpic)
    assert "15_0101disgustingteeth" in str(err.value) and "15_0101otherclip" in str(err.value)
    assert "casme_sq/s15/0101" in str(err.value)


def test_two_files_with_one_frame_number_are_an_error_naming_both(tmp_path: Path) -> None:
    book, rawpic = casme_sq_dataset(tmp_path)
    folder = rawpic / "s15" / "15_0101disgustingteeth"
    (folder / "img1.jpg").write_bytes((folder / "img001.jpg").read_bytes())
    with pytest.raises(SheetError, match=r"img001\.jpg and .*img1\.jpg are both frame 1"):
        casme_sq.read(book, rawpic)


def test_a_coded_interval_over_missing_frames_is_flagged_or_skipped(tmp_path: Path) -> None:
    book, rawpic = casme_sq_dataset(tmp_path)
    folder = rawpic / "s15" / "15_0101disgustingteeth"
    for n in range(10, 31):
        (folder / f"img{n:03d}.jpg").unlink()
    (folder / "img036.jpg").write_bytes(b"")  # an empty file is no frame either
    add_rows(book, [[1, "disgust1_3", 12, 15, 20, "4", "negative", "micro-expression", "x"],  # row 7: all gone
                    [1, "disgust1_4", 5, 15, 35, "4", "negative", "macro-expression", "x"],  # row 8: partly
                    [1, "disgust1_5", 33, 36, 38, "4", "negative", "micro-expression", "x"]])  # row 9: one empty file
    v = casme_sq.read(book, rawpic)
    assert by_row(v.skipped)[7] == "frames_missing"
    warned = {(w.row, w.reason): w.detail for w in v.warnings}
    assert "21 of the 31 frames" in warned[(8, "frames_missing")] and "(10..30)" in warned[(8, "frames_missing")]
    assert "(36)" in warned[(9, "frames_missing")]
    assert {i.sheet_row for i in v.intervals if i.recording_id == "casme_sq/s15/0101"} == {1, 8, 9}


def test_an_empty_coding_sheet_stops_ingest(tmp_path: Path) -> None:
    raw = tmp_path / "data" / "raw" / "CASME_sq"
    book, _ = casme_sq_dataset(raw)
    wb = openpyxl.load_workbook(book)
    wb["CASFEcode_final"].delete_rows(1, 10)
    wb.save(book)
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["recordings"]["sources"] = ["casme_sq"]
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    done = subprocess.run([sys.executable, str(ROOT / "stages" / "recordings" / "ingest.py")], cwd=tmp_path, env=ENV,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "recordings.casme_sq: no coded interval kept from data/raw/CASME_sq/CAS(ME)^2code_final.xlsx, sheet " \
           "CASFEcode_final: the sheet has no coded row" in done.stderr
    assert not (tmp_path / "data/recordings/recordings.csv").exists()


def test_a_sheet_whose_every_row_is_skipped_stops_ingest_with_the_reasons(tmp_path: Path) -> None:
    from apexspot.recordings import sources

    raw = tmp_path / "raw"
    book, rawpic = casme_sq_dataset(raw)
    wb = openpyxl.load_workbook(book)
    main = wb["CASFEcode_final"]
    for row in main.iter_rows(min_row=1, max_row=main.max_row):
        row[4].value = 500  # every offset past the recordings' last frame
    wb.save(book)
    p = PARAMS.recordings.model_copy(update={"sources": ["casme_sq"], "casme_sq": PARAMS.recordings.casme_sq.model_copy(
        update={"sheet": str(book), "frames": str(rawpic)})})
    with pytest.raises(SheetError) as err:
        sources.collect(p)
    text = str(err.value)
    assert "no coded interval kept" in text and str(book) in text and "all 6 coded row(s) were skipped" in text
    assert "outside_recording (e.g. row 1:" in text


def test_fold_split_names_the_recordings_key_and_what_is_possible() -> None:
    from types import SimpleNamespace

    one = [SimpleNamespace(identity="casme_sq-s15", dataset="casme_sq", subject="casme_sq-s15")]
    with pytest.raises(FoldError, match=r"at least 2 subjects .* the recordings have 1 \(casme_sq-s15\)") as err:
        make_folds(one, "kfold", 3, 0, "recordings.folds", "recordings")
    assert "Lower" not in str(err.value)
    two = one + [SimpleNamespace(identity="casme_sq-s16", dataset="casme_sq", subject="casme_sq-s16")]
    with pytest.raises(FoldError, match=r"recordings\.folds\.k = 3 needs at least 3 subjects.*Lower "
                                        r"recordings\.folds\.k to 2 or less"):
        make_folds(two, "kfold", 3, 0, "recordings.folds", "recordings")


# ------------------------------------------------------------------ frames that are not there

@pytest.fixture(scope="module")
def gappy(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    """45 frames of a still synthetic face at 30 fps as img001..img045.jpg, with img010-img030
    deleted, img036 empty and img040 a 400x300 picture."""
    folder = tmp_path_factory.mktemp("gappy")
    people, _ = sr.sample_dataset(1, 6, seed=3)
    spec = sr.RecordingSpec(1, "0101", 45, drift=(0.0, 0.0), drift_period=200.0, noise=1.5, seed=1, events=[])
    for n, frame in enumerate(sr.render(people[0], spec), start=1):
        cv2.imwrite(str(folder / f"img{n:03d}.jpg"), frame)
    for n in range(10, 31):
        (folder / f"img{n:03d}.jpg").unlink()
    (folder / "img036.jpg").write_bytes(b"")
    cv2.imwrite(str(folder / "img040.jpg"), np.full((300, 400, 3), 120, np.uint8))
    return folder, [folder / f"img{n:03d}.jpg" for n in range(1, 46)]


def test_missing_empty_and_odd_frames_are_unusable_and_no_flow_spans_them(gappy) -> None:
    folder, paths = gappy
    detector = mtcnn_only(FaceDetector(PARAMS.face.min_confidence))
    result = process(folder_frames(paths), len(paths), 30.0, detector, PARAMS.face, PARAMS.recordings.track,
                     PARAMS.recordings.flow)
    reasons = result.reasons
    assert set(reasons[9:30]) == {"missing_frame"} and reasons[35] == "missing_frame"
    assert reasons[39] == "frame_size"
    assert all(r == "" for i, r in enumerate(reasons) if i not in (*range(9, 30), 35, 39))  # a still face elsewhere
    # no flow with its frame or its reference (or anything between) missing
    bad = np.array([bool(r) for r in reasons])
    for j, frame in enumerate(result.positions):
        for r, k in enumerate(result.references):
            if result.valid[j, r]:
                assert frame - k >= 0 and not bad[frame - k:frame + 1].any()
    assert not result.valid[list(result.positions).index(30)].any()  # frame 31: its 0.2-s reference is frame 25
    spans = span_records(reasons, list(range(1, 46)), 30.0, details=result.details)
    gap = next(s for s in spans if s["first"] == 10)
    assert (gap["last"], gap["reason"]) == (30, "missing_frame")
    assert "img010.jpg" in gap["detail"] and "20 more" in gap["detail"]
    odd = next(s for s in spans if s["reason"] == "frame_size")
    assert odd["first"] == odd["last"] == 40 and "img040.jpg is 400x300" in odd["detail"] and "640x480" in odd["detail"]


def fake_models(folder: Path, record: dict) -> Path:
    folder.mkdir()
    (folder / "fold_0.keras").write_bytes(b"")
    (folder / "fold_0.json").write_text(json.dumps(record))
    r = PARAMS.recordings
    (folder / "params.yaml").write_text(yaml.safe_dump({
        "face": PARAMS.face.model_dump(), "flow": PARAMS.flow.model_dump(), "spot": PARAMS.spot.model_dump(),
        "recordings": {"flow": r.flow.model_dump(), "track": r.track.model_dump(), "spotter": r.spotter.model_dump()}}))
    return folder


INTERVAL_RECORD = {"spotter": PARAMS.recordings.spotter.model_dump(), "thresholds": {"micro": 0.5, "macro": 0.5},
                   "min_s": {"micro": 0.0, "macro": 0.0}}


def video(path: Path, frames: int, fps: float, size: tuple[int, int] = (64, 48)) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    for i in range(frames):
        writer.write(np.full((size[1], size[0], 3), 40 + i, np.uint8))
    writer.release()
    return path


@pytest.mark.parametrize("frames,fps,needs", [(5, 30, "at least 7 frames"), (30, 600, "at least 121 frames")])
def test_a_recording_shorter_than_the_flow_reference_gets_a_message_and_no_interval(
        tmp_path: Path, frames: int, fps: float, needs: str) -> None:
    models = fake_models(tmp_path / "models", INTERVAL_RECORD)
    clip = video(tmp_path / "short.avi", frames, fps)
    done = cli("spot", str(clip), "--models", str(models), "--json", cwd=tmp_path)
    assert done.returncode != 0 and "Traceback" not in done.stderr and done.stdout == ""
    assert f"{frames} frame(s)" in done.stderr and needs in done.stderr and "no expression can be spotted" in done.stderr


def sequence(frames: int, fps: float = 30.0, valid_from: int = 6) -> Sequence:
    positions = np.arange(frames)
    valid = np.zeros((frames, 2), bool)
    valid[valid_from:, 0] = True
    features = np.zeros((frames, 2, 2, 2, 3), np.float16)
    return Sequence("r", "s", "d", fps, positions + 1, positions, features, valid, np.ones(frames, bool),
                    {"micro": [], "macro": []}, {})


def test_no_interval_and_no_apex_where_there_is_no_flow() -> None:
    spotter = IntervalSpotter(PARAMS.recordings.spotter,
                              {"thresholds": {"micro": 0.5, "macro": 0.5}, "min_s": {"micro": 0.0, "macro": 0.0}})
    short = sequence(5)  # 5 frames at 30 fps: no frame has a frame 0.2 s before it
    assert spotter.intervals(short.positions, np.full((5, 2), 0.9), short) == []
    seq = sequence(40)
    probs = np.full((40, 2), 0.2)
    probs[0:12, 0] = [0.99, 0.9, 0.8, 0.8, 0.7, 0.7, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]  # most probable at frame 0
    found = spotter.intervals(seq.positions, probs, seq)
    assert [(s.kind, s.onset, s.apex, s.offset) for s in found] == [("micro", 6, 6, 10)]


def test_an_interval_longer_than_half_a_second_is_never_called_micro() -> None:
    spotter = IntervalSpotter(PARAMS.recordings.spotter,
                              {"thresholds": {"micro": 0.5, "macro": 0.5}, "min_s": {"micro": 0.0, "macro": 0.0}})
    seq = sequence(120, valid_from=0)
    probs = np.full((120, 2), 0.1)
    probs[30:72, 0] = 0.8  # 1.4 s above the threshold
    probs[60, 0] = 0.95
    (found,) = spotter.intervals(seq.positions, probs, seq)
    assert found.kind == "micro" and found.offset - found.onset + 1 == 15  # 0.5 s at 30 fps
    assert found.onset <= found.apex == 60 <= found.offset and 30 <= found.onset and found.offset <= 71


# ------------------------------------------------------------------ spot: the user's input and files

def test_spot_plot_never_writes_over_a_users_file(tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    folder.mkdir()
    for n in range(1, 40):
        cv2.imwrite(str(folder / f"img{n:03d}.png"), np.full((48, 64, 3), n, np.uint8))
    before = (folder / "img001.png").read_bytes()
    models = fake_models(tmp_path / "models", INTERVAL_RECORD)
    done = cli("spot", str(folder), "--fps", "30", "--models", str(models), "--plot", str(folder / "img001.png"),
               cwd=tmp_path)
    assert done.returncode != 0 and "inside the recording" in done.stderr and "Traceback" not in done.stderr
    assert (folder / "img001.png").read_bytes() == before
    mine = tmp_path / "holiday.png"
    cv2.imwrite(str(mine), np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(ApexspotError, match="not an earlier plot of apexspot spot"):
        check_plot_path(mine, folder)
    assert not our_plot(mine)


def test_an_earlier_plot_of_ours_may_be_written_again(tmp_path: Path) -> None:
    from apexspot.spot.intervals import Found
    from apexspot.spot.plots import plot_intervals

    found = Found({"source": "x.mp4", "numbering": "0-based frame index", "intervals": [], "unusable": [],
                   "thresholds": {"micro": 0.5, "macro": 0.5}}, [0, 1, 2], np.zeros((3, 2)))
    path = tmp_path / "found.png"
    plot_intervals(found, path)
    assert our_plot(path)
    check_plot_path(path, tmp_path / "x.mp4")  # no error: ours to replace


def test_a_one_frame_recording_is_said_to_have_one_frame(tmp_path: Path) -> None:
    with pytest.raises(ApexspotError, match=r"one\.avi: has one frame"):
        read_window(video(tmp_path / "one.avi", 1, 30))
    folder = tmp_path / "single"
    folder.mkdir()
    cv2.imwrite(str(folder / "img001.jpg"), np.zeros((48, 64, 3), np.uint8))
    with pytest.raises(ApexspotError, match="has one frame"):
        read_window(folder)


def test_a_damaged_video_marks_its_concealed_frames_and_keeps_the_decoder_quiet(tmp_path: Path, capfd) -> None:
    path = tmp_path / "damaged.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30, (320, 240))
    rng = np.random.default_rng(0)
    for i in range(90):
        frame = np.full((240, 320, 3), 90, np.uint8)
        cv2.circle(frame, (100 + i, 120), 40, (200, 180, 160), -1)
        writer.write((frame + rng.integers(0, 20, frame.shape)).astype(np.uint8))
    writer.release()
    data = bytearray(path.read_bytes())
    data[len(data) // 2:len(data) // 2 + 4096] = bytes(4096)
    path.write_bytes(bytes(data))
    clip = read_window(path)
    got = list(clip.frames())
    bad = [i for i, f in enumerate(got) if isinstance(f, BadFrame)]
    assert len(got) == clip.length and 1 <= len(bad) <= 15  # the damaged frame and those predicted from it
    assert bad == list(range(bad[0], bad[-1] + 1)) and 20 < bad[0] < 70
    assert all(f.reason == "corrupt_frame" and "damaged.mp4: frame" in f.detail for i, f in enumerate(got) if i in bad)
    assert "the decoder:" in got[bad[0]].detail
    assert "@ 0x" not in capfd.readouterr().err  # FFmpeg's own lines stay off the terminal


def test_short_clip_models_in_interval_mode_say_what_to_give(tmp_path: Path) -> None:
    apex = fake_models(tmp_path / "apex_models", {"variant": {"kind": "clip"}, "channels": ["u", "v"]})
    clip = video(tmp_path / "clip.avi", 40, 30)
    done = cli("spot", str(clip), "--models", str(apex), cwd=tmp_path)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "these are apex spotters for short clips; give --onset and --offset" in done.stderr
    assert "--models recordings/models" in done.stderr and "width: missing" not in done.stderr
    interval = fake_models(tmp_path / "interval_models", INTERVAL_RECORD)
    done = cli("spot", str(clip), "--models", str(interval), "--onset", "2", "--offset", "30", cwd=tmp_path)
    assert done.returncode != 0 and "these are interval spotters for whole recordings" in done.stderr


def test_a_recording_no_longer_than_the_reference_is_skipped_by_preprocess(tmp_path: Path) -> None:
    from apexspot.recordings.recording import recording_from_folder
    from apexspot.recordings.preprocess import preprocess_to_file

    frames(tmp_path / "006_1", "006_1_{:04d}.jpg", 40)  # 0.2 s at 200 fps: no frame has one 0.2 s before it
    rec = recording_from_folder(tmp_path / "006_1", "samm_lv", "samm_lv-006", "006_1", 200.0)
    done = preprocess_to_file((rec, tmp_path / "flow", PARAMS.face, PARAMS.recordings.track, PARAMS.recordings.flow))
    assert done["skipped"] == "too_short" and "40 frame(s) (0.20 s at 200 fps)" in done["detail"]
    assert "at least 41 frames" in done["detail"] and not (tmp_path / "flow").exists()


def test_spot_refuses_two_files_with_one_frame_number(tmp_path: Path) -> None:
    for name in ("img001.jpg", "img002.jpg", "img003.jpg", "img1.jpg"):
        cv2.imwrite(str(tmp_path / name), np.zeros((48, 64, 3), np.uint8))
    with pytest.raises(ApexspotError, match=r"img001\.jpg and .*img1\.jpg are both frame 1"):
        read_window(tmp_path)
