"""Long recordings and the expressions coded in them: the records the long-recording stages share.

A long recording has no window: it is a folder of frames, and its coding sheet lists the
expressions in it (onset, apex, offset, micro or macro). A reader turns sheet rows into
`Interval`s, each validated against its recording's frames on disk, or into `Skipped`
records naming the sheet row. A recording with frames but no coded interval is kept: the
evaluation counts whatever is spotted in it as a false positive.

Longer than 300 lines because the validation of a coded row (every defect the releases are
known to have, duplicates, frames missing on disk) is one function with the records it
checks against.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from apexspot.core.errors import ApexspotError, SheetError
from apexspot.core.sheet import Skipped, Verdicts, cell_text

FRAME_FILE = re.compile(r"^(?P<prefix>.*?)(?P<number>\d+)\.(?:jpe?g|png|bmp)$", re.IGNORECASE)
MAX_FRAME = 10**8
MICRO_SECONDS = 0.5  # the MEGC rule: an expression of at most 0.5 s is micro


@dataclass
class Recording:
    recording_id: str  # dataset/subject/video
    dataset: str
    subject: str  # dataset-namespaced text: "casme_sq-s15", "samm_lv-006"
    identity: str  # who the face is (folds group by it): the subject, or a synthetic face's photograph
    video: str
    frames_dir: str
    prefix: str  # frame file names are <prefix><number><suffix>
    suffix: str
    digits: int  # the numbers' zero padding (3: img001; 4: 006_1_0001)
    first: int
    last: int
    n_frames: int  # files on disk; fewer than last - first + 1 when numbers are missing
    fps: float

    @property
    def clip_id(self) -> str:  # what the fold splitter names a test item
        return self.recording_id

    def frame_path(self, number: int) -> Path:
        return Path(self.frames_dir) / f"{self.prefix}{number:0{self.digits}d}{self.suffix}"



@dataclass
class Interval:
    recording_id: str
    onset: int
    apex: int  # -1 when the coders left it out
    offset: int
    kind: str  # micro | macro
    action_units: str
    emotion: str
    sheet: str
    sheet_row: int


def frame_numbers(folder: Path) -> tuple[str, str, int, list[int]] | None:
    """(prefix, suffix, digits, sorted numbers) of the frames in `folder`: non-empty image
    files named <prefix><number>.<ext> with the folder's most common prefix; None when there
    are none. Two files with one number (a stray img1.jpg beside img001.jpg) are an error
    naming both: which of them is the frame is the user's to say."""
    found: dict[tuple[str, str], dict[int, list[str]]] = {}
    for path in sorted(folder.iterdir()):
        match = FRAME_FILE.match(path.name)
        if match and path.is_file() and path.stat().st_size > 0:
            key = (match["prefix"], path.name[match.end("number"):])
            found.setdefault(key, {}).setdefault(int(match["number"]), []).append(match["number"])
    if not found:
        return None
    (prefix, suffix), items = max(found.items(), key=lambda kv: len(kv[1]))
    clash = next((n for n, texts in sorted(items.items()) if len(texts) > 1), None)
    if clash is not None:
        names = " and ".join(f"{folder / (prefix + t + suffix)}" for t in items[clash][:2])
        raise SheetError(f"{names} are both frame {clash}: remove or rename one (one file per frame number)")
    widths = [len(texts[0]) for texts in items.values()]
    return prefix, suffix, min(widths), sorted(items)


def number_ranges(numbers: Iterable[int]) -> str:
    """'10..30, 33': consecutive numbers as ranges."""
    out: list[list[int]] = []
    for n in sorted(numbers):
        if out and n == out[-1][1] + 1:
            out[-1][1] = n
        else:
            out.append([n, n])
    return ", ".join(f"{a}..{b}" if b > a else f"{a}" for a, b in out)


def recording_from_folder(folder: Path, dataset: str, subject: str, video: str, fps: float,
                          identity: str | None = None) -> Recording | str:
    """The recording a frames folder holds, or why it cannot be one."""
    if not folder.is_dir():
        return f"no folder {folder}"
    listed = frame_numbers(folder)
    if listed is None:
        return f"no non-empty frame files (img001.jpg, 006_1_0001.jpg) in {folder}"
    prefix, suffix, digits, numbers = listed
    if len(numbers) < 2:
        return f"{folder} holds a single frame"
    return Recording(
        recording_id=f"{dataset}/{subject.split('-', 1)[-1]}/{video}", dataset=dataset, subject=subject,
        identity=identity or subject, video=video, frames_dir=folder.as_posix(), prefix=prefix, suffix=suffix,
        digits=digits, first=numbers[0], last=numbers[-1], n_frames=len(numbers), fps=fps)


def add_recording(found: dict[str, Recording], bad: list[Skipped], folder: Path, root: Path, dataset: str,
                  subject: str, video: str, fps: float, identity: str | None = None) -> None:
    """The recording in `folder` into `found`, or a skip record into `bad` (a folder linked
    out of the dataset root, or one without usable frames)."""
    rid = f"{dataset}/{subject.split('-', 1)[-1]}/{video}"
    if not folder.resolve().is_relative_to(root.resolve()):
        bad.append(Skipped(dataset, folder.name, 0, rid, "outside_dataset_root",
                           f"{folder} links to {folder.resolve()}, outside {root}"))
        return
    rec = recording_from_folder(folder, dataset, subject, video, fps, identity)
    if isinstance(rec, str):
        bad.append(Skipped(dataset, folder.name, 0, rid, "no_frames", rec))
    elif rec.recording_id in found:  # CAS(ME)^2 names a video by the code its folder's name starts with
        raise SheetError(f"{found[rid].frames_dir} and {folder} are both recording {rid}: one folder per "
                         f"recording (move or rename the other)")
    else:
        found[rec.recording_id] = rec


def sheet_frame(value: Any) -> tuple[int | None, bool]:
    """A frame-number cell as (number, was_fractional): SAMM Long Videos codes some frames as
    566.4; they are rounded to the nearest frame (half up) and flagged. (None, False) for
    text, blanks and negative numbers."""
    if isinstance(value, bool) or value is None:
        return None, False
    try:
        number = float(str(value).strip()) if isinstance(value, str) else float(value)
    except ValueError:
        return None, False
    if not math.isfinite(number) or not 0 <= number < MAX_FRAME:
        return None, False
    return int(math.floor(number + 0.5)), not number.is_integer()


@dataclass
class Row:
    """One coded expression as a sheet gives it, before validation."""

    dataset: str
    sheet: str
    row: int
    recording_id: str
    onset: Any
    apex: Any
    offset: Any
    kind: str  # micro | macro | '' (not recognised)
    type_text: str
    action_units: str
    emotion: str


@dataclass
class RecordingVerdicts(Verdicts):
    """Verdicts whose kept items are coded intervals, with the recordings found on disk."""

    recordings: list[Recording] = field(default_factory=list)

    @property
    def intervals(self) -> list[Interval]:
        return self.kept

    def extend(self, other: "Verdicts") -> None:
        super().extend(other)
        self.recordings += getattr(other, "recordings", [])


def absent_frames(rec: Recording, cache: dict[str, set[int]]) -> set[int]:
    """The numbers first..last with no file (or an empty one) on disk."""
    if rec.n_frames == rec.last - rec.first + 1:
        return set()
    if rec.recording_id not in cache:
        listed = frame_numbers(Path(rec.frames_dir))
        cache[rec.recording_id] = set(range(rec.first, rec.last + 1)) - set(listed[3] if listed else [])
    return cache[rec.recording_id]


def validate(rows: Iterable[Row], recordings: dict[str, Recording], missing: dict[str, str]) -> RecordingVerdicts:
    """Each row as a kept interval or a skip naming its sheet row. `missing` says why a
    recording a row names has no frames.

    One expression is one onset..offset in one recording: a second row with the same interval
    is dropped and reported with both rows, as `duplicate_row` when every cell matches and as
    `duplicate_interval` when the two disagree on apex, type, action units or emotion (a
    correction left beside the original, most likely; the first row is kept). Counted twice,
    either would cost a perfect spotter a third of its F1. An interval with frames missing on
    disk is flagged (`frames_missing`: the spotter has no face there) and skipped when none of
    its frames is there."""
    out = RecordingVerdicts(recordings=list(recordings.values()))
    seen: dict[tuple[str, int, int], tuple[Row, tuple]] = {}
    absent_cache: dict[str, set[int]] = {}
    for r in rows:
        flags: list[Skipped] = []  # warnings, kept only with the row

        def note(into: list[Skipped], reason: str, detail: str) -> None:
            into.append(Skipped(r.dataset, r.sheet, r.row, r.recording_id, reason, detail))

        if r.recording_id in missing:
            note(out.skipped, "no_frames", missing[r.recording_id])
            continue
        if not r.kind:
            note(out.skipped, "unknown_type", f"type {r.type_text!r} is neither micro nor macro")
            continue
        onset, f_on = sheet_frame(r.onset)
        offset, f_off = sheet_frame(r.offset)
        apex, f_apex = sheet_frame(r.apex)
        if onset is None or offset is None:
            name, value = ("onset", r.onset) if onset is None else ("offset", r.offset)
            note(out.skipped, f"{name}_not_a_number", f"{name} is {cell_text(value)!r}, not a frame number")
            continue
        if offset == 0:
            note(out.skipped, "offset_zero", "offset is 0 (not coded); peers substitute the apex, we do not guess")
            continue
        if onset > offset:
            note(out.skipped, "onset_after_offset", f"onset {onset} is after offset {offset}")
            continue
        rec = recordings[r.recording_id]
        if onset < rec.first or offset > rec.last:
            note(out.skipped, "outside_recording", f"onset..offset {onset}..{offset} is outside the recording's "
                 f"frames {rec.first}..{rec.last}")
            continue
        if apex is None or apex == 0:  # -1 (SAMM Long Videos) and 0 (CAS(ME)^2) mean "not coded"
            note(flags, "apex_not_coded", f"apex is {cell_text(r.apex)!r}: kept as an interval without apex")
            apex = -1
        elif not onset <= apex <= offset:
            note(out.skipped, "apex_outside_interval", f"apex {apex} is outside onset..offset {onset}..{offset}")
            continue
        if f_on or f_off or f_apex:
            note(flags, "fractional_frame_rounded", f"frame numbers {cell_text(r.onset)}, {cell_text(r.apex)}, "
                 f"{cell_text(r.offset)} rounded to the nearest frame")
        cells = (apex, r.kind, r.type_text, r.action_units, r.emotion)
        first = seen.get((r.recording_id, onset, offset))
        if first is not None:
            other, first_cells = first
            names = ("apex", "type", "type", "action units", "emotion")
            differ = list(dict.fromkeys(n for n, a, b in zip(names, first_cells, cells) if a != b))
            if differ:
                note(out.skipped, "duplicate_interval", f"onset..offset {onset}..{offset} is coded in {other.sheet} "
                     f"row {other.row} too, with another {', '.join(differ)}: one expression, the first row is kept")
            else:
                note(out.skipped, "duplicate_row", f"the same as {other.sheet} row {other.row}: the expression is "
                     f"counted once")
            continue
        gone = sorted(n for n in absent_frames(rec, absent_cache) if onset <= n <= offset)
        if len(gone) == offset - onset + 1:
            note(out.skipped, "frames_missing", f"no frame of onset..offset {onset}..{offset} is on disk (missing or "
                 f"empty files)")
            continue
        seen[(r.recording_id, onset, offset)] = (r, cells)
        if gone:
            note(flags, "frames_missing", f"{len(gone)} of the {offset - onset + 1} frames of onset..offset "
                 f"{onset}..{offset} are missing or empty on disk ({number_ranges(gone)}): no face there")
        seconds = (offset - onset + 1) / rec.fps
        if r.kind == "micro" and seconds > MICRO_SECONDS + 1e-9:
            note(flags, "long_micro", f"coded micro but {seconds:.2f} s long (micro is at most {MICRO_SECONDS} s)")
        out.warnings += flags
        out.kept.append(Interval(r.recording_id, onset, apex, offset, r.kind, r.action_units, r.emotion,
                                      r.sheet, r.row))
    return out


def kind_of(text: Any) -> str:
    """'micro-expression', 'Micro - 1/2', 'Macro' -> micro | macro; '' when neither."""
    t = cell_text(text).lower()
    return "micro" if t.startswith("micro") else "macro" if t.startswith("macro") else ""


RECORDING_COLUMNS = [f.name for f in fields(Recording)]
INTERVAL_COLUMNS = [f.name for f in fields(Interval)]


def write_tables(folder: Path, verdicts: RecordingVerdicts) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame([asdict(r) for r in verdicts.recordings], columns=RECORDING_COLUMNS).to_csv(
        folder / "recordings.csv", index=False)
    pd.DataFrame([asdict(i) for i in verdicts.intervals], columns=INTERVAL_COLUMNS).to_csv(
        folder / "intervals.csv", index=False)


def read_recordings(path: str | Path) -> list[Recording]:
    frame = _read(path, RECORDING_COLUMNS)
    ints, floats = ("digits", "first", "last", "n_frames"), ("fps",)
    return [Recording(**{k: int(v) if k in ints else float(v) if k in floats else v for k, v in row.items()
                         if k in RECORDING_COLUMNS}) for row in frame.to_dict("records")]


def read_intervals(path: str | Path) -> list[Interval]:
    frame = _read(path, INTERVAL_COLUMNS)
    ints = ("onset", "apex", "offset", "sheet_row")
    return [Interval(**{k: int(v) if k in ints else v for k, v in row.items() if k in INTERVAL_COLUMNS})
            for row in frame.to_dict("records")]


def _read(path: str | Path, columns: list[str]) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ApexspotError(f"{path}: not an apexspot recordings table, missing columns {missing}")
    return frame
