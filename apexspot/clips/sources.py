"""The ingest step: read the sources params.yaml selects, validate every clip, summarise."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Callable

from apexspot.clips import casme2, samm, synthetic
from apexspot.clips.manifest import Verdicts, drop_duplicates
from apexspot.core.config import DataParams
from apexspot.core.photos import identity as photo_identity
from apexspot.core.sources import Ingest, reason_lines


def read_synthetic(data: DataParams) -> Verdicts:
    root = Path(synthetic.ROOT)
    verdicts = casme2.read(root / synthetic.SHEET, root / synthetic.FRAMES_DIR, dataset="synthetic", layout="raw")
    for clip in verdicts.kept:
        clip.identity = photo_identity(clip.subject)
    return verdicts


READERS: dict[str, Callable[[DataParams], Verdicts]] = {
    "synthetic": read_synthetic,
    "casme2": lambda data: casme2.read(data.casme2.sheet, data.casme2.frames, layout=data.casme2.layout),
    "samm": lambda data: samm.read(data.samm.sheet, data.samm.frames, sheet_name=data.samm.sheet_name),
}


def collect(data: DataParams) -> Verdicts:
    """Every selected source read and validated, duplicate clip ids skipped.

    Under the `fail` policy a defective clip raises `DefectError` naming each sheet row.
    """
    ingest = Ingest({name: (lambda read=read: read(data)) for name, read in READERS.items()}, Verdicts, "data",
                    "clip(s)")
    return ingest.enforce(drop_duplicates(ingest.collect(data.sources)), data.on_defect)


def report(verdicts: Verdicts, sources: list[str], rule: str) -> dict[str, Any]:
    """The ingest report: counts, and every skipped or flagged clip with its sheet row."""
    return {
        "sources": sources,
        "on_defect": rule,
        "kept": dict(Counter(c.dataset for c in verdicts.kept)),
        "skipped_by_reason": dict(Counter(s.reason for s in verdicts.skipped)),
        "skipped": [vars(s) for s in verdicts.skipped],
        "warnings": [vars(w) for w in verdicts.warnings],
    }


def summary(verdicts: Verdicts) -> str:
    """One screen: clips kept and skipped per dataset, skips per reason, flagged clips."""
    kept = Counter(c.dataset for c in verdicts.kept)
    skipped = Counter(s.dataset for s in verdicts.skipped)
    lines = [f"ingest: {len(verdicts.kept)} clips kept, {len(verdicts.skipped)} skipped",
             f"  {'dataset':<12}{'kept':>8}{'skipped':>9}"]
    for name in sorted(set(kept) | set(skipped)):
        lines.append(f"  {name:<12}{kept[name]:>8}{skipped[name]:>9}")
    lines += reason_lines(verdicts.skipped)
    if verdicts.warnings:
        lines.append("kept but flagged:")
        for reason, n in Counter(w.reason for w in verdicts.warnings).most_common():
            clips = ", ".join(w.clip_id for w in verdicts.warnings if w.reason == reason)
            lines.append(f"  {reason:<26}{n:>5}   {clips[:90]}")
    return "\n".join(lines)
