"""Clip records, the checks every clip must pass, and the manifest table the stages share.

A reader turns sheet rows into `Candidate`s; `validate` turns each candidate into a kept
`Clip` or a `Skipped` record with a reason. Reasons are short stable strings so the ingest
report can be counted and grepped.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from apexspot.core.errors import ApexspotError
from apexspot.core.sheet import Skipped, Verdicts, cell_text

# Frame numbers are decimal digits only (no '²', no '1e3'), below MAX_FRAME; a window
# longer than MAX_WINDOW frames is a typo, and checking it would list that many files.
FRAME_DIGITS = re.compile(r"[0-9]{1,9}")
MAX_FRAME = 10**9
MAX_WINDOW = 2000

MANIFEST_COLUMNS = [
    "clip_id", "subject", "dataset", "filename", "onset", "apex", "offset", "n_frames",
    "frames_dir", "frame_pattern", "emotion", "action_units", "objective_class",
    "sheet", "sheet_row", "identity",
]


@dataclass
class Candidate:
    """One annotated sheet row, before validation. Values are as the sheet holds them."""

    dataset: str
    sheet: str
    row: int  # 1-based spreadsheet row, as a spreadsheet program shows it
    subject: Any
    filename: Any
    onset: Any
    apex: Any
    offset: Any
    emotion: str = ""
    action_units: str = ""
    objective_class: str = ""


@dataclass
class Clip:
    clip_id: str
    subject: str
    dataset: str
    filename: str
    onset: int
    apex: int
    offset: int
    n_frames: int
    frames_dir: str
    frame_pattern: str
    emotion: str
    action_units: str
    objective_class: str
    sheet: str
    sheet_row: int
    # The person (the face) the clip shows; folds never split one. The subject for the real
    # datasets; for the synthetic one, the photograph its subject was made from.
    identity: str = ""

    def __post_init__(self) -> None:
        self.identity = self.identity or self.subject

    def frame_path(self, frame: int) -> Path:
        return Path(self.frames_dir) / self.frame_pattern.format(frame=frame)


def frame_number(value: Any) -> int | None:
    """A sheet cell as a non-negative frame number, or None ('/', blank, 12.5, text)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        return int(text) if FRAME_DIGITS.fullmatch(text) else None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number) or not number.is_integer() or not 0 <= number < MAX_FRAME:
        return None
    return int(number)


def unsafe_component(text: str) -> str | None:
    """Why `text` cannot be one folder/file name under the dataset root, or None if it can."""
    if not text:
        return "is empty"
    if "/" in text or "\\" in text or os.sep in text:
        return "contains a path separator"
    if ".." in text:
        return "contains '..'"
    if text.strip() != text or "\x00" in text:
        return "has surrounding spaces or a NUL byte"
    if Path(text).is_absolute() or (len(text) > 1 and text[1] == ":"):
        return "is an absolute path"
    return None


def check_window(onset: Any, apex: Any, offset: Any) -> tuple[str, str] | tuple[int, int, int]:
    """Frame numbers of a clip, or (reason, detail) when they are not a usable window."""
    numbers = {}
    for name, value in (("onset", onset), ("apex", apex), ("offset", offset)):
        number = frame_number(value)
        if number is None:
            return f"{name}_not_a_number", f"{name} is {cell_text(value)!r}, not a frame number"
        numbers[name] = number
    on, ap, off = numbers["onset"], numbers["apex"], numbers["offset"]
    if on >= off:
        return "onset_not_before_offset", f"onset {on} is not before offset {off}"
    if not on <= ap <= off:
        return "apex_outside_window", f"apex {ap} is outside onset..offset {on}..{off}"
    if off - on > MAX_WINDOW:
        return "window_too_long", (f"onset..offset {on}..{off} is {off - on} frames; a micro-expression "
                                   f"window is at most {MAX_WINDOW} frames (10 s at 200 fps)")
    return on, ap, off


def edge_warning(clip: Clip) -> Skipped | None:
    """Apex on, or one frame from, the window's edge is legal but suspicious: the real sheets
    have such rows (CASME II sub05 EP09_05f apex = onset; sub05 EP16_04f, sub12 EP09_06,
    sub20 EP16_01, sub25 EP18_04f apex = offset; SAMM 032_3_2 apex one frame after onset).
    The clip is kept and flagged."""
    for edge in ("onset", "offset"):
        gap = abs(clip.apex - getattr(clip, edge))
        if gap <= 1:
            reason = f"apex_at_{edge}" if gap == 0 else f"apex_next_to_{edge}"
            return Skipped(clip.dataset, clip.sheet, clip.sheet_row, clip.clip_id, reason,
                           f"apex {clip.apex}, {edge} {getattr(clip, edge)}; kept")
    return None


def check_frames(frames_dir: Path, pattern: str, onset: int, offset: int) -> tuple[str, str] | None:
    """(reason, detail) if any frame onset..offset is absent or zero bytes, else None."""
    if not frames_dir.is_dir():
        return "clip_folder_missing", f"no folder {frames_dir}"
    sizes = {}
    with os.scandir(frames_dir) as entries:
        for entry in entries:
            if entry.is_file():
                sizes[entry.name] = entry.stat().st_size
    names = [pattern.format(frame=f) for f in range(onset, offset + 1)]
    missing = [n for n in names if n not in sizes]
    if missing:
        return "missing_frames", f"{len(missing)} of {len(names)} frames missing in {frames_dir}: {_few(missing)}"
    empty = [n for n in names if sizes[n] == 0]
    if empty:
        return "empty_frames", f"{len(empty)} of {len(names)} frames are empty files in {frames_dir}: {_few(empty)}"
    return None


def _few(names: list[str], limit: int = 5) -> str:
    more = f" (+{len(names) - limit} more)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def drop_duplicates(verdicts: Verdicts) -> Verdicts:
    """Skip every repeat of a clip id, naming the row that came first."""
    first: dict[str, Clip] = {}
    out = Verdicts(skipped=list(verdicts.skipped), warnings=list(verdicts.warnings))
    for clip in verdicts.kept:
        if clip.clip_id in first:
            seen = first[clip.clip_id]
            out.skipped.append(Skipped(clip.dataset, clip.sheet, clip.sheet_row, clip.clip_id,
                                       "duplicate_clip_id",
                                       f"same clip id as {seen.sheet} row {seen.sheet_row}"))
        else:
            first[clip.clip_id] = clip
            out.kept.append(clip)
    return out


def to_frame(clips: Iterable[Clip]) -> pd.DataFrame:
    return pd.DataFrame([asdict(c) for c in clips], columns=MANIFEST_COLUMNS)


def read_manifest(path: str | Path) -> list[Clip]:
    """The clips of a manifest written by the ingest stage."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in MANIFEST_COLUMNS if c not in frame.columns]
    if missing:
        raise ApexspotError(f"{path}: not an apexspot manifest, missing columns {missing}")
    ints = ("onset", "apex", "offset", "n_frames", "sheet_row")
    return [Clip(**{k: (int(v) if k in ints else v) for k, v in row.items() if k in MANIFEST_COLUMNS})
            for row in frame.to_dict("records")]
