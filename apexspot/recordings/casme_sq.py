"""CAS(ME)^2 long videos: `rawpic/s15/15_0101disgustingteeth/img001.jpg` and its coding workbook.

The workbook `CAS(ME)^2code_final.xlsx` has three sheets. `CASFEcode_final` has no header
row; its columns are, in order: participant (1-22), expression name (`anger1_1`: video
`anger1`, its first expression), onset, apex, offset, action units, emotion, type
(`macro-expression` / `micro-expression`), self-report. `naming rule1` maps the participant
number to its folder (rows like `15, s15, 1`), `naming rule2` the video name to its
four-digit code (`0401`, `anger1`), which is the start of the video folder's second part
(`15_0401girlcrashing`). Frames are numbered from 1 with at least three digits. 30 fps.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from apexspot.core.errors import SheetError
from apexspot.core.sheet import Skipped, _open_workbook, cell_text
from apexspot.recordings.recording import RecordingVerdicts, Recording, Row, add_recording, kind_of, validate

FPS = 30.0
MAIN_SHEET = "CASFEcode_final"
PARTICIPANTS = "naming rule1"
VIDEOS = "naming rule2"
COLUMNS = ("participant", "name", "onset", "apex", "offset", "action_units", "emotion", "type")


def _table(book: pd.ExcelFile, path: Path, name: str) -> pd.DataFrame:
    if name not in book.sheet_names:
        raise SheetError(f"{path}: no sheet named {name!r} (sheets: {', '.join(book.sheet_names)}); "
                         f"the CAS(ME)^2 workbook has {MAIN_SHEET}, {PARTICIPANTS} and {VIDEOS}")
    try:
        return pd.read_excel(book, sheet_name=name, header=None, dtype=object)
    except Exception as err:  # noqa: BLE001  openpyxl's and the XML parser's own errors
        raise SheetError(f"{path}: sheet {name!r} cannot be read ({type(err).__name__})") from None


def participant_folders(table: pd.DataFrame) -> dict[int, str]:
    """Participant number -> subject folder, from rows like (15, 's15', 1)."""
    out = {}
    for values in table.itertuples(index=False):
        folder = next((cell_text(v) for v in values if re.fullmatch(r"s\d+", cell_text(v))), None)
        numbers = [int(float(v)) for v in values if re.fullmatch(r"\d+(\.0)?", cell_text(v))]
        if folder and numbers:
            out[numbers[-1]] = folder
    return out


def video_codes(table: pd.DataFrame) -> dict[str, str]:
    """Video name ('anger1') -> four-digit code ('0401'; a number cell 401 keeps its zero)."""
    out = {}
    for values in table.itertuples(index=False):
        code = next((cell_text(v).zfill(4) for v in values if re.fullmatch(r"\d{3,4}", cell_text(v))), None)
        name = next((cell_text(v) for v in values if re.fullmatch(r"[A-Za-z]+\d*", cell_text(v))), None)
        if code and name:
            out[name.lower()] = code
    return out


def video_folder(subject_dir: Path, code: str) -> Path | None:
    """`15_0401girlcrashing` for code 0401 (the folder's second part starts with the code)."""
    if not subject_dir.is_dir():
        return None
    return next((p for p in sorted(subject_dir.iterdir())
                 if p.is_dir() and len(p.name.split("_")) > 1 and p.name.split("_")[1][:4] == code), None)


def read(sheet: str | Path, frames_root: str | Path, dataset: str = "casme_sq", fps: float = FPS,
         identity: Any = None) -> RecordingVerdicts:
    """Every recording under `frames_root` and every coded expression, validated.

    `identity(subject)` names who a subject is (the folds group by it); by default the subject."""
    sheet, root = Path(sheet), Path(frames_root)
    book = _open_workbook(sheet)
    main = _table(book, sheet, MAIN_SHEET)
    folders = participant_folders(_table(book, sheet, PARTICIPANTS))
    codes = video_codes(_table(book, sheet, VIDEOS))
    if not root.is_dir():
        raise SheetError(f"{root}: frames folder not found (recordings.{dataset}.frames)")
    recordings: dict[str, Recording] = {}
    bad: list[Skipped] = []
    for subject_dir in sorted(p for p in root.iterdir() if p.is_dir() and re.fullmatch(r"s\d+", p.name)):
        for video_dir in sorted(p for p in subject_dir.iterdir() if p.is_dir()):
            parts = video_dir.name.split("_")
            if len(parts) < 2 or not re.fullmatch(r"\d{4}", parts[1][:4]):
                continue
            subject = f"{dataset}-{subject_dir.name}"
            add_recording(recordings, bad, video_dir, root, dataset, subject, parts[1][:4], fps,
                          identity(subject) if identity else None)
    rows, missing = [], {}
    for i, values in enumerate(main.itertuples(index=False), start=1):
        cells = dict(zip(COLUMNS, list(values) + [None] * (len(COLUMNS) - len(values))))
        if all(cell_text(v) == "" for v in cells.values()):
            continue
        participant = cell_text(cells["participant"])
        name = cell_text(cells["name"])
        video = name.rsplit("_", 1)[0].lower() if "_" in name else name.lower()
        folder = folders.get(int(float(participant))) if re.fullmatch(r"\d+(\.0)?", participant) else None
        code = codes.get(video)
        rid = f"{dataset}/{folder or participant}/{code or video}"
        row = Row(dataset, sheet.name, i, rid, cells["onset"], cells["apex"], cells["offset"],
                  kind_of(cells["type"]), cell_text(cells["type"]), cell_text(cells["action_units"]),
                  cell_text(cells["emotion"]))
        if folder is None:
            bad.append(Skipped(dataset, sheet.name, i, rid, "bad_subject",
                               f"participant {participant!r} is not in sheet {PARTICIPANTS!r}"))
        elif code is None:
            bad.append(Skipped(dataset, sheet.name, i, rid, "bad_video",
                               f"expression {name!r}: video {video!r} is not in sheet {VIDEOS!r}"))
        else:
            if rid not in recordings:
                found = video_folder(root / folder, code)
                missing[rid] = (f"no frames folder {root / folder}/<n>_{code}... for {name}" if found is None
                                else f"{found} holds no usable frames")
            rows.append(row)
    out = validate(rows, recordings, missing)
    out.skipped = bad + out.skipped
    return out
