"""SAMM Long Videos: `SAMM_longvideos/006_1/006_1_0001.jpg` and `SAMM_LongVideos_V*_Release.xlsx`.

Sheet `FACS_Movement_Only`, header on spreadsheet row 10 (found by its content): Subject,
Filename (`006_1_1`: video `006_1`, its first movement), Inducement Code, Onset, Apex,
Offset, Duration, Type (`Macro`, `Micro - 1/2`), Action Units, Notes. Frames are numbered
from 1 with four digits. 200 fps. Some frame numbers are fractional (566.4: rounded and
flagged), some apexes are -1 (not coded: kept without apex, flagged).
"""

from __future__ import annotations

import re
from pathlib import Path

from apexspot.core.errors import SheetError
from apexspot.core.sheet import Skipped, cell_text, read_sheet
from apexspot.recordings.recording import RecordingVerdicts, Recording, Row, add_recording, kind_of, validate

FPS = 200.0
SHEET_NAME = "FACS_Movement_Only"
COLUMNS = ["Subject", "Filename", "Onset", "Apex", "Offset", "Type"]
VIDEO = re.compile(r"^(\d{3})_(\d+)$")


def read(sheet: str | Path, frames_root: str | Path, dataset: str = "samm_lv", sheet_name: str = SHEET_NAME,
         fps: float = FPS) -> RecordingVerdicts:
    """Every recording under `frames_root` and every coded movement, validated."""
    sheet, root = Path(sheet), Path(frames_root)
    rows_in = read_sheet(sheet, COLUMNS, sheet_name=sheet_name)
    if not root.is_dir():
        raise SheetError(f"{root}: frames folder not found (recordings.{dataset}.frames)")
    recordings: dict[str, Recording] = {}
    bad: list[Skipped] = []
    for video_dir in sorted(p for p in root.iterdir() if p.is_dir() and VIDEO.match(p.name)):
        add_recording(recordings, bad, video_dir, root, dataset, f"{dataset}-{video_dir.name[:3]}", video_dir.name, fps)
    rows, missing = [], {}
    for i, values in rows_in.rows:
        filename = cell_text(values.get("filename"))
        parts = filename.split("_")
        subject = cell_text(values.get("subject"))
        subject = subject.zfill(3) if subject.isdigit() else subject
        video = "_".join(parts[:2])
        rid = f"{dataset}/{parts[0]}/{video}"
        if len(parts) < 3 or not VIDEO.match(video):
            bad.append(Skipped(dataset, sheet.name, i, rid, "bad_filename",
                               f"Filename {filename!r} is not <subject>_<video>_<movement> (006_1_1)"))
            continue
        if subject and subject != parts[0]:
            bad.append(Skipped(dataset, sheet.name, i, rid, "subject_mismatch",
                               f"Subject {subject!r} does not match Filename {filename!r}"))
            continue
        if rid not in recordings:
            missing[rid] = f"no frames folder {root / video} with usable frames"
        rows.append(Row(dataset, sheet.name, i, rid, values.get("onset"), values.get("apex"), values.get("offset"),
                        kind_of(values.get("type")), cell_text(values.get("type")),
                        cell_text(values.get("actionunits")), ""))  # SAMM Long Videos code no emotion
    out = validate(rows, recordings, missing)
    out.skipped = bad + out.skipped
    return out
