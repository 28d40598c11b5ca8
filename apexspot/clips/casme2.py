"""CASME II: coding sheets 20140508 / 20190701 and the RAW_selected / Cropped frame layouts.

Frames live at `<frames_root>/sub01/EP02_01f/img46.jpg` (CASME2_RAW_selected, and the full
CASME2-RAW release) or `.../reg_img46.jpg` (Cropped). The number in the name is the
absolute frame index the sheet uses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from apexspot.clips.manifest import Verdicts, frame_number
from apexspot.clips.readers import candidate_verdicts, candidates
from apexspot.core.sheet import read_sheet

COLUMNS = ["Subject", "Filename", "OnsetFrame", "ApexFrame", "OffsetFrame"]
LAYOUTS = {"raw": "img{frame}.jpg", "cropped": "reg_img{frame}.jpg"}


def subject_folder(value: Any) -> str | None:
    """Sheet subject (1, 1.0 or '01') as its folder name 'sub01'."""
    number = frame_number(value)
    return None if number is None else f"sub{number:02d}"


def frame_pattern(clip_dir: Path, onset: int, layout: str) -> str:
    """The file-name pattern of a clip's frames; `auto` looks at which onset frame exists."""
    if layout != "auto":
        return LAYOUTS[layout]
    for pattern in LAYOUTS.values():
        if (clip_dir / pattern.format(frame=onset)).exists():
            return pattern
    return LAYOUTS["raw"]


def read(sheet: str | Path, frames_root: str | Path | None = None, dataset: str = "casme2",
         layout: str = "auto") -> Verdicts:
    """Validate every row of a CASME II sheet; frames are checked when `frames_root` is given."""
    if layout not in ("auto", *LAYOUTS):
        raise ValueError(f"CASME II layout must be auto, raw or cropped, not {layout!r}")
    rows = read_sheet(sheet, COLUMNS)
    return candidate_verdicts(
        candidates(rows, dataset), frames_root, subject_folder=subject_folder,
        subject_id=lambda folder: f"{dataset}-{folder[3:]}",
        pattern=lambda clip_dir, onset: frame_pattern(clip_dir, onset, layout),
    )
