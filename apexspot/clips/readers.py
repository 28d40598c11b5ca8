"""What the CASME II and SAMM readers share: sheet rows to candidates, candidates to verdicts."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from apexspot.clips.manifest import (
    Candidate, Clip, Skipped, Verdicts, cell_text, check_frames, check_window, drop_duplicates, edge_warning,
    unsafe_component,
)
from apexspot.core.files import inside
from apexspot.core.sheet import SheetRows


def candidates(rows: SheetRows, dataset: str) -> list[Candidate]:
    """Sheet rows as candidates; column keys are normalised, so both datasets' headers fit."""
    return [
        Candidate(
            dataset=dataset, sheet=rows.path.name, row=row,
            subject=values.get("subject"), filename=values.get("filename"),
            onset=values.get("onsetframe"), apex=values.get("apexframe"), offset=values.get("offsetframe"),
            emotion=cell_text(values.get("estimatedemotion")),
            action_units=cell_text(values.get("actionunits")),
            objective_class=cell_text(values.get("objectiveclasses")),
        )
        for row, values in rows.rows
    ]


def candidate_verdicts(
    items: list[Candidate],
    frames_root: str | Path | None,
    subject_folder: Callable[[Any], str | None],
    subject_id: Callable[[str], str],
    pattern: Callable[[Path, int], str],
) -> Verdicts:
    """Keep or skip each candidate. Frames are only checked when `frames_root` is given."""
    out = Verdicts()
    for c in items:
        folder = subject_folder(c.subject) if c.subject is not None else None
        filename = cell_text(c.filename)
        clip_id = f"{c.dataset}/{folder or cell_text(c.subject)}/{filename}"

        def skip(reason: str, detail: str) -> None:
            out.skipped.append(Skipped(c.dataset, c.sheet, c.row, clip_id, reason, detail))

        if c.subject is None or not filename:
            skip("incomplete_row", "Subject or Filename is blank")
            continue
        if folder is None:
            skip("bad_subject", f"Subject {cell_text(c.subject)!r} is not a subject number")
            continue
        unsafe = unsafe_component(folder) or unsafe_component(filename)
        if unsafe:
            which = "Subject" if unsafe_component(folder) else "Filename"
            skip("unsafe_path", f"{which} {unsafe}; it must name one folder inside the dataset root")
            continue
        window = check_window(c.onset, c.apex, c.offset)
        if isinstance(window[0], str):
            skip(*window)
            continue
        onset, apex, offset = window
        frames_dir, frame_pattern = "", ""
        if frames_root is not None:
            clip_dir = Path(frames_root) / folder / filename
            if not inside(clip_dir, Path(frames_root)):
                skip("outside_dataset_root", f"{clip_dir} is a link to {clip_dir.resolve()}, outside "
                     f"{frames_root}: DVC would not hash its frames")
                continue
            frame_pattern = pattern(clip_dir, onset)
            problem = check_frames(clip_dir, frame_pattern, onset, offset)
            if problem:
                skip(*problem)
                continue
            frames_dir = clip_dir.as_posix()
        clip = Clip(
            clip_id=clip_id, subject=subject_id(folder), dataset=c.dataset, filename=filename,
            onset=onset, apex=apex, offset=offset, n_frames=offset - onset + 1,
            frames_dir=frames_dir, frame_pattern=frame_pattern, emotion=c.emotion,
            action_units=c.action_units, objective_class=c.objective_class,
            sheet=c.sheet, sheet_row=c.row,
        )
        out.kept.append(clip)
        warning = edge_warning(clip)
        if warning:
            out.warnings.append(warning)
    return drop_duplicates(out)
