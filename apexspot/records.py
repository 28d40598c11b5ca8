"""The record of surviving clips: what each per-clip stage produced and what it skipped.

face-align and flow each write a report beside their per-clip files; the next stage reads
the list of clips it produced instead of probing the file system, and carries the skips
of the stages before it forward, so the flow report says why every manifest clip that has
no flow is missing. fold-split splits only the clips in the flow report.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from apexspot.config import read_yaml
from apexspot.datasets.manifest import Clip, Skipped
from apexspot.errors import ApexspotError


def split(results: list[Any]) -> tuple[list[dict], list[Skipped]]:
    """Per-clip results of a stage as (done, skipped); a skip is a `Skipped` record."""
    done = [r for r in results if not isinstance(r, Skipped)]
    skipped = sorted((r for r in results if isinstance(r, Skipped)), key=lambda r: r.clip_id)
    return done, skipped


def stage_report(stage: str, done: list[dict], skipped: list[Skipped], upstream: list[Skipped] = (),
                 **extra: Any) -> dict[str, Any]:
    """What data/<stage>_report.json holds: the clips produced, and every skip so far."""
    every = list(upstream) + list(skipped)
    return {"stage": stage, "produced": len(done), "clips": sorted(r["clip_id"] for r in done),
            "skipped_here": len(skipped), "skipped": [vars(s) for s in every],
            "skipped_by_reason": dict(Counter(s.reason for s in every)), **extra}


def survivors(path: str | Path) -> tuple[list[str], list[Skipped]]:
    """(clip ids produced, clips skipped so far) from a stage report."""
    report = read_yaml(path)  # JSON is YAML; safe_load, one-line errors naming the file
    try:
        return list(report["clips"]), [Skipped(**s) for s in report["skipped"]]
    except (KeyError, TypeError) as err:
        raise ApexspotError(f"{path}: not a stage report of this version of apexspot ({err})") from None


def surviving(clips: list[Clip], path: str | Path) -> list[Clip]:
    """The manifest clips a stage report lists as produced, in manifest order."""
    ids, _ = survivors(path)
    keep = set(ids)
    unknown = keep - {c.clip_id for c in clips}
    if unknown:
        raise ApexspotError(f"{path} lists clips the manifest does not have ({sorted(unknown)[:3]}): "
                            "rerun the pipeline with `dvc repro`")
    return [c for c in clips if c.clip_id in keep]
