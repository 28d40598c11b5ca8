"""The ingest step: read the sources params.yaml selects, validate every clip, summarise."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from apexspot.clips import casme2, samm, synthetic
from apexspot.clips.manifest import Verdicts, drop_duplicates
from apexspot.core.config import DataParams
from apexspot.core.errors import DefectError
from apexspot.core.files import inside
from apexspot.core.photos import identity as photo_identity


def selected_sources(data: DataParams) -> list[str]:
    return list(dict.fromkeys(data.sources))


RAW = Path("data/raw")  # what dvc.yaml declares as ingest's dependency: the datasets added with `dvc add`


def outside_raw(data: DataParams, raw: Path = RAW) -> list[str]:
    """The selected real sources' sheet and frames paths that lie outside data/raw (links
    followed). The pipeline refuses them rather than declaring them as dependencies: a path
    outside the project is not in the queue's temporary clone or on another machine, and a
    dataset DVC does not hash can change without rerunning anything."""
    bad = []
    for name in selected_sources(data):
        if name == "synthetic":
            continue
        section = getattr(data, name)
        for key in ("frames", "sheet"):
            path = Path(getattr(section, key))
            if not inside(path, raw):
                bad.append(f"data.{name}.{key}: {path} is outside {raw}/ (add the dataset there with `dvc add`, "
                           f"as the README says)")
    return bad


def read_source(name: str, data: DataParams) -> Verdicts:
    """Validate one source's clips against its sheet and its frames on disk."""
    if name == "synthetic":
        root = Path(synthetic.ROOT)
        verdicts = casme2.read(root / synthetic.SHEET, root / synthetic.FRAMES_DIR, dataset="synthetic", layout="raw")
        for clip in verdicts.kept:
            clip.identity = photo_identity(clip.subject)
        return verdicts
    if name == "casme2":
        return casme2.read(data.casme2.sheet, data.casme2.frames, layout=data.casme2.layout)
    return samm.read(data.samm.sheet, data.samm.frames, sheet_name=data.samm.sheet_name)


def collect(data: DataParams) -> Verdicts:
    """Every selected source read and validated, duplicate clip ids skipped.

    Under the `fail` policy a defective clip raises `DefectError` naming each sheet row.
    """
    verdicts = Verdicts()
    for name in selected_sources(data):
        verdicts.extend(read_source(name, data))
    verdicts = drop_duplicates(verdicts)
    if data.on_defect == "fail" and verdicts.skipped:
        lines = [s.message() for s in verdicts.skipped]
        more = f"\n  ... and {len(lines) - 20} more" if len(lines) > 20 else ""
        raise DefectError(f"{len(lines)} defective clip(s) and data.on_defect is 'fail':\n  "
                          + "\n  ".join(lines[:20]) + more)
    return verdicts


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
    if verdicts.skipped:
        lines.append("skipped, by reason:")
        for reason, n in Counter(s.reason for s in verdicts.skipped).most_common():
            example = next(s for s in verdicts.skipped if s.reason == reason)
            lines.append(f"  {reason:<26}{n:>5}   e.g. {example.sheet} row {example.row} {example.clip_id}")
    if verdicts.warnings:
        lines.append("kept but flagged:")
        for reason, n in Counter(w.reason for w in verdicts.warnings).most_common():
            clips = ", ".join(w.clip_id for w in verdicts.warnings if w.reason == reason)
            lines.append(f"  {reason:<26}{n:>5}   {clips[:90]}")
    return "\n".join(lines)
