"""The ingest step: read the sources params.yaml selects, validate every clip, summarise."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from apexspot.datasets import casme2, samm, synthetic
from apexspot.datasets.manifest import Verdicts, drop_duplicates
from apexspot.errors import DefectError, ParamsError

SOURCES = ("synthetic", "casme2", "samm")
POLICIES = ("skip", "fail")


def selected_sources(data: dict[str, Any]) -> list[str]:
    sources = data.get("sources")
    if isinstance(sources, str):
        sources = [sources]
    if not sources or not isinstance(sources, list):
        raise ParamsError("params.yaml: data.sources must list one or more of " + ", ".join(SOURCES))
    unknown = [s for s in sources if s not in SOURCES]
    if unknown:
        raise ParamsError(f"params.yaml: unknown data.sources {unknown}; choose from {', '.join(SOURCES)}")
    return list(dict.fromkeys(sources))


def policy(data: dict[str, Any]) -> str:
    value = data.get("on_defect", "skip")
    if value not in POLICIES:
        raise ParamsError(f"params.yaml: data.on_defect must be skip or fail, not {value!r}")
    return value


def read_source(name: str, data: dict[str, Any]) -> Verdicts:
    """Validate one source's clips against its sheet and its frames on disk."""
    cfg = data.get(name) or {}
    if name == "synthetic":
        root = Path(cfg.get("root", "data/synthetic"))
        return casme2.read(root / synthetic.SHEET, root / synthetic.FRAMES_DIR, dataset="synthetic", layout="raw")
    for key in ("sheet", "frames"):
        if not cfg.get(key):
            raise ParamsError(f"params.yaml: data.{name}.{key} is not set")
    if name == "casme2":
        return casme2.read(cfg["sheet"], cfg["frames"], layout=cfg.get("layout", "auto"))
    return samm.read(cfg["sheet"], cfg["frames"], sheet_name=cfg.get("sheet_name", samm.SHEET_NAME))


def collect(data: dict[str, Any]) -> Verdicts:
    """Every selected source read and validated, duplicate clip ids skipped.

    Under the `fail` policy a defective clip raises `DefectError` naming each sheet row.
    """
    rule = policy(data)
    verdicts = Verdicts()
    for name in selected_sources(data):
        verdicts.extend(read_source(name, data))
    verdicts = drop_duplicates(verdicts)
    if rule == "fail" and verdicts.skipped:
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
