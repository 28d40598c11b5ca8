"""CAS(ME)^2 and SAMM Long Videos readers, in their released layouts, read through the ingest stage."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import write_xlsx

from defaults import PARAMS
from project import ENV, ROOT

from apexspot.recordings import casme_sq, samm_lv
from apexspot.recordings.recording import sheet_frame


def frames(folder: Path, name: str, count: int) -> None:
    folder.mkdir(parents=True)
    ok, data = cv2.imencode(".jpg", np.full((8, 8, 3), 100, np.uint8))
    for n in range(1, count + 1):
        (folder / name.format(n)).write_bytes(data.tobytes())


def casme_sq_dataset(root: Path) -> tuple[Path, Path]:
    """rawpic/ with three recordings (one without labels) and a workbook with its defects."""
    rawpic = root / "rawpic"
    frames(rawpic / "s15" / "15_0101disgustingteeth", "img{:03d}.jpg", 40)
    frames(rawpic / "s16" / "16_0502funnyerrors", "img{:03d}.jpg", 30)
    frames(rawpic / "s16" / "16_0401girlcrashing", "img{:03d}.jpg", 20)  # no expression coded in it
    book = root / "CAS(ME)^2code_final.xlsx"
    write_xlsx(book, [  # no header row, as released
        [1, "disgust1_1", 5, 8, 12, "4+10", "negative", "micro-expression", "disgust"],
        [1, "disgust1_2", 20, 25, 0, "12", "positive", "macro-expression", "happy"],  # offset 0
        [2, "happy1_1", 3, 0, 10, "12", "positive", "macro-expression", "happy"],  # apex 0: not coded
        [2, "happy1_2", 15, 12, 20, "12", "positive", "macro-expression", "happy"],  # apex before onset
        [3, "anger1_1", 2, 3, 4, "4", "negative", "micro-expression", "anger"],  # participant 3 unknown
        [2, "happy1_3", 25, 27, 29, "6+12", "positive", "smile", "happy"],  # type neither
    ], sheet="CASFEcode_final")
    import openpyxl

    wb = openpyxl.load_workbook(book)
    rule1 = wb.create_sheet("naming rule1")
    for row in ([15, "s15", 1], [16, "s16", 2]):
        rule1.append(row)
    rule2 = wb.create_sheet("naming rule2")
    for row in (["0101", "disgust1"], [502, "happy1"], ["0401", "anger1"]):  # 502: a number cell lost its zero
        rule2.append(row)
    wb.save(book)
    return book, rawpic


def samm_lv_dataset(root: Path) -> tuple[Path, Path]:
    videos = root / "SAMM_longvideos"
    frames(videos / "006_1", "006_1_{:04d}.jpg", 50)
    frames(videos / "007_2", "007_2_{:04d}.jpg", 50)
    preamble = [["SAMM Long Videos"]] + [[None]] * 8
    header = ["Subject", "Filename", "Inducement Code", "Onset", "Apex", "Offset", "Duration", "Type",
              "Action Units", "Notes"]
    sheet = root / "SAMM_LongVideos_V3_Release.xlsx"
    write_xlsx(sheet, preamble + [header] + [
        ["006", "006_1_1", 1, 5, 8, 12, 8, "Micro - 1/2", "4", None],
        ["006", "006_1_2", 1, 20.4, -1, 40, 21, "Macro", "12", None],  # fractional onset, apex not coded
        ["007", "007_2_1", 2, 10, 30, 20, 11, "Macro", "12", None],  # apex after offset
        ["007", "007_2_2", 2, 45, 50, 70, 26, "Macro", "12", None],  # runs past the recording's 50 frames
        ["007", "../../etc_1_1", 2, 1, 2, 3, 3, "Micro - 1/2", "4", None],  # a path, not a Filename
    ], sheet="FACS_Movement_Only")
    return sheet, videos


def by_row(items) -> dict[int, str]:
    return {s.row: s.reason for s in items}


def test_casme_sq_layout(tmp_path: Path) -> None:
    v = casme_sq.read(*casme_sq_dataset(tmp_path))
    assert {r.recording_id for r in v.recordings} == {"casme_sq/s15/0101", "casme_sq/s16/0502", "casme_sq/s16/0401"}
    rec = next(r for r in v.recordings if r.recording_id == "casme_sq/s15/0101")
    assert (rec.subject, rec.first, rec.last, rec.fps, rec.frame_path(7).name) == ("casme_sq-s15", 1, 40, 30.0,
                                                                                    "img007.jpg")
    assert by_row(v.skipped) == {2: "offset_zero", 4: "apex_outside_interval", 5: "bad_subject", 6: "unknown_type"}
    assert all(s.sheet == "CAS(ME)^2code_final.xlsx" for s in v.skipped)
    assert by_row(v.warnings) == {3: "apex_not_coded"}
    kept = {(i.recording_id, i.onset, i.apex, i.offset, i.kind) for i in v.intervals}
    assert kept == {("casme_sq/s15/0101", 5, 8, 12, "micro"), ("casme_sq/s16/0502", 3, -1, 10, "macro")}
    assert next(i for i in v.intervals if i.onset == 5).action_units == "4+10"


def test_samm_lv_layout(tmp_path: Path) -> None:
    v = samm_lv.read(*samm_lv_dataset(tmp_path))
    assert {r.recording_id for r in v.recordings} == {"samm_lv/006/006_1", "samm_lv/007/007_2"}
    assert next(r for r in v.recordings).fps == 200.0
    assert by_row(v.skipped) == {13: "apex_outside_interval", 14: "outside_recording", 15: "bad_filename"}
    assert sorted((w.row, w.reason) for w in v.warnings) == [(12, "apex_not_coded"), (12, "fractional_frame_rounded")]
    assert {(i.onset, i.apex, i.offset, i.kind) for i in v.intervals} == {(5, 8, 12, "micro"), (20, -1, 40, "macro")}


def test_fractional_frames_round_to_nearest() -> None:
    assert sheet_frame(566.4) == (566, True) and sheet_frame(566.5) == (567, True)
    assert sheet_frame(12) == (12, False) and sheet_frame("x") == (None, False) and sheet_frame(-1) == (None, False)


def ingest(project: Path, on_defect: str = "skip") -> subprocess.CompletedProcess:
    raw = project / "data" / "raw"
    casme_sq_dataset(raw / "CASME_sq")
    samm_lv_dataset(raw / "SAMM_LV")
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["recordings"] |= {"sources": ["casme_sq", "samm_lv"], "on_defect": on_defect}
    (project / "params.yaml").write_text(yaml.safe_dump(params))
    return subprocess.run([sys.executable, str(ROOT / "stages" / "recordings" / "ingest.py")], cwd=project, env=ENV,
                          capture_output=True, text=True, timeout=300)


def test_ingest_reads_both_layouts_and_reports_each_defect_by_sheet_and_row(tmp_path: Path) -> None:
    assert PARAMS.recordings.casme_sq.frames == "data/raw/CASME_sq/rawpic"  # where the README says to add it
    done = ingest(tmp_path)
    assert done.returncode == 0, done.stderr
    assert "5 recordings, 4 coded intervals kept" in done.stdout
    report = json.loads((tmp_path / "data/recordings/ingest_report.json").read_text())
    skipped = {(s["sheet"], s["row"], s["reason"]) for s in report["skipped"]}
    assert ("CAS(ME)^2code_final.xlsx", 2, "offset_zero") in skipped
    assert ("SAMM_LongVideos_V3_Release.xlsx", 14, "outside_recording") in skipped
    assert report["intervals"] == {"casme_sq/micro": 1, "casme_sq/macro": 1, "samm_lv/micro": 1, "samm_lv/macro": 1}
    recordings = pd.read_csv(tmp_path / "data/recordings/recordings.csv", dtype=str)
    assert set(recordings["subject"]) == {"casme_sq-s15", "casme_sq-s16", "samm_lv-006", "samm_lv-007"}
    intervals = pd.read_csv(tmp_path / "data/recordings/intervals.csv")
    assert sorted(intervals["onset"]) == [3, 5, 5, 20]


def test_ingest_fails_on_a_defect_when_told_to(tmp_path: Path) -> None:
    done = ingest(tmp_path, on_defect="fail")
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "CAS(ME)^2code_final.xlsx row 2 (casme_sq/s15/0101): offset_zero" in done.stderr
    assert not (tmp_path / "data/recordings/recordings.csv").exists()


def test_a_dataset_outside_data_raw_is_refused(tmp_path: Path) -> None:
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["recordings"] |= {"sources": ["samm_lv"]}
    params["recordings"]["samm_lv"]["frames"] = "/elsewhere/SAMM_longvideos"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    done = subprocess.run([sys.executable, str(ROOT / "stages" / "recordings" / "ingest.py")], cwd=tmp_path, env=ENV,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode != 0 and "recordings.samm_lv.frames: /elsewhere/SAMM_longvideos is outside data/raw/" in done.stderr


@pytest.mark.parametrize("missing", ["naming rule1", "naming rule2"])
def test_casme_sq_workbook_without_its_naming_rules(tmp_path: Path, missing: str) -> None:
    book, rawpic = casme_sq_dataset(tmp_path)
    import openpyxl

    wb = openpyxl.load_workbook(book)
    del wb[missing]
    wb.save(book)
    with pytest.raises(Exception, match=f"no sheet named '{missing}'"):
        casme_sq.read(book, rawpic)
