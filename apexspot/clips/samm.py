"""SAMM: sheet MICRO_ONLY of SAMM_Micro_FACS_Codes_v2.xlsx and `006/006_1_2/006_05562.jpg` frames."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from apexspot.clips.manifest import Verdicts, frame_number
from apexspot.clips.readers import candidate_verdicts, candidates
from apexspot.core.sheet import read_sheet

COLUMNS = ["Subject", "Filename", "Onset Frame", "Apex Frame", "Offset Frame"]
SHEET_NAME = "MICRO_ONLY"


def subject_folder(value: Any) -> str | None:
    """Sheet subject ('006', or 6 if a spreadsheet program ate the zeros) as folder '006'."""
    if isinstance(value, str) and not value.strip().isdigit():
        return value.strip() or None
    number = frame_number(value)
    return None if number is None else f"{number:03d}"


def read(sheet: str | Path, frames_root: str | Path | None = None, dataset: str = "samm",
         sheet_name: str = SHEET_NAME) -> Verdicts:
    """Validate every row of the SAMM sheet; frames are checked when `frames_root` is given."""
    rows = read_sheet(sheet, COLUMNS, sheet_name=sheet_name)
    return candidate_verdicts(
        candidates(rows, dataset), frames_root, subject_folder=subject_folder,
        subject_id=lambda folder: f"{dataset}-{folder}",
        pattern=lambda clip_dir, onset: clip_dir.parent.name + "_{frame:05d}.jpg",
    )
