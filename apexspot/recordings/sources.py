"""The long-recording ingest: read the sources params.yaml selects, validate, summarise."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Callable

from apexspot.core.config import RecordingsParams
from apexspot.core.errors import SheetError
from apexspot.core.sources import Ingest, reason_lines
from apexspot.recordings import casme_sq, samm_lv, synthetic as synthetic_recordings
from apexspot.recordings.recording import RecordingVerdicts


def coding_sheet(name: str, p: RecordingsParams) -> str:
    """The workbook and sheet a source's expressions are coded in, as a user would look for them."""
    if name == "synthetic":
        return f"{Path(synthetic_recordings.ROOT) / synthetic_recordings.SHEET}, sheet {casme_sq.MAIN_SHEET}"
    if name == "casme_sq":
        return f"{p.casme_sq.sheet}, sheet {casme_sq.MAIN_SHEET}"
    return f"{p.samm_lv.sheet}, sheet {p.samm_lv.sheet_name}"


def read_synthetic(p: RecordingsParams) -> RecordingVerdicts:
    root = Path(synthetic_recordings.ROOT)
    return casme_sq.read(root / synthetic_recordings.SHEET, root / synthetic_recordings.FRAMES_DIR,
                         dataset="synthetic", fps=synthetic_recordings.FPS, identity=synthetic_recordings.identity)


READERS: dict[str, Callable[[RecordingsParams], RecordingVerdicts]] = {
    "synthetic": read_synthetic,
    "casme_sq": lambda p: casme_sq.read(p.casme_sq.sheet, p.casme_sq.frames),
    "samm_lv": lambda p: samm_lv.read(p.samm_lv.sheet, p.samm_lv.frames, sheet_name=p.samm_lv.sheet_name),
}


def nothing_kept(name: str, p: RecordingsParams, v: RecordingVerdicts) -> str:
    """Why a source gave no coded interval: an empty sheet, or each skip reason with an example."""
    rows = [s for s in v.skipped if s.row]
    if not rows:
        why = "the sheet has no coded row"
    else:
        why = f"all {len(rows)} coded row(s) were skipped: " + "; ".join(
            f"{n} {reason} (e.g. row {e.row}: {e.detail})" for reason, n in Counter(s.reason for s in rows).most_common()
            for e in [next(s for s in rows if s.reason == reason)])
    return (f"recordings.{name}: no coded interval kept from {coding_sheet(name, p)}: {why}. Without coded "
            f"intervals there is nothing to train or score")


def collect(p: RecordingsParams) -> RecordingVerdicts:
    """Every selected source, each of which must keep at least one coded interval."""
    def some_kept(name: str, verdicts: RecordingVerdicts) -> None:
        if not verdicts.intervals:
            raise SheetError(nothing_kept(name, p, verdicts))

    ingest = Ingest({name: (lambda read=read: read(p)) for name, read in READERS.items()}, RecordingVerdicts,
                    "recordings", "row(s) or recording(s)")
    return ingest.enforce(ingest.collect(p.sources, some_kept), p.on_defect)


def report(v: RecordingVerdicts, names: list[str], rule: str) -> dict[str, Any]:
    return {
        "sources": names, "on_defect": rule,
        "recordings": dict(Counter(r.dataset for r in v.recordings)),
        "frames": dict(Counter({d: sum(r.n_frames for r in v.recordings if r.dataset == d)
                                for d in {r.dataset for r in v.recordings}})),
        "intervals": {f"{d}/{k}": n for (d, k), n in
                      Counter((i.recording_id.split("/")[0], i.kind) for i in v.intervals).items()},
        "skipped_by_reason": dict(Counter(s.reason for s in v.skipped)),
        "skipped": [vars(s) for s in v.skipped],
        "warnings": [vars(w) for w in v.warnings],
    }


def summary(v: RecordingVerdicts) -> str:
    lines = [f"ingest: {len(v.recordings)} recordings, {len(v.intervals)} coded intervals kept, "
             f"{len(v.skipped)} skipped"]
    kinds = Counter((i.recording_id.split("/")[0], i.kind) for i in v.intervals)
    for d in sorted({r.dataset for r in v.recordings}):
        frames = sum(r.n_frames for r in v.recordings if r.dataset == d)
        lines.append(f"  {d:<12}{sum(r.dataset == d for r in v.recordings):>5} recordings {frames:>9} frames "
                     f"{kinds[(d, 'micro')]:>5} micro {kinds[(d, 'macro')]:>5} macro")
    lines += reason_lines(v.skipped)
    if v.warnings:
        lines += ["kept but flagged:"] + reason_lines(v.warnings)[1:]
    return "\n".join(lines)
