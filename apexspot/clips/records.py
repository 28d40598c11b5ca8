"""The record of surviving clips: what each per-clip stage produced and what it skipped.

face-align and flow each write a record beside their per-clip files (data/<stage>_clips.json:
the clips produced, and every clip skipped so far with its stage and reason); the next stage
reads it instead of probing the file system and carries the skips forward, so the flow
record says why every manifest clip that has no flow is missing. fold-split splits only
the clips in the flow record. The record holds nothing else (no params, no timings), so a
stage after it reruns only when the set of clips changes.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from apexspot.clips.manifest import Clip, Skipped
from apexspot.core.config import read_yaml
from apexspot.core.errors import ApexspotError


def split(results: list[Any]) -> tuple[list[dict], list[Skipped]]:
    """Per-clip results of a stage as (done, skipped); a skip is a `Skipped` record."""
    done = [r for r in results if not isinstance(r, Skipped)]
    skipped = sorted((r for r in results if isinstance(r, Skipped)), key=lambda r: r.clip_id)
    return done, skipped


def stage_record(stage: str, done: list[dict], skipped: list[Skipped], upstream: list[Skipped] = ()) -> dict[str, Any]:
    """What data/<stage>_clips.json holds: the clips produced, and every skip so far."""
    every = sorted(list(upstream) + list(skipped), key=lambda s: s.clip_id)
    return {"stage": stage, "clips": sorted(r["clip_id"] for r in done), "skipped": [vars(s) for s in every]}


def stage_report(stage: str, done: list[dict], skipped: list[Skipped], **extra: Any) -> dict[str, Any]:
    """What data/<stage>_report.json holds for a reader: counts, this stage's skips, params."""
    return {"stage": stage, "produced": len(done), "skipped": [vars(s) for s in skipped],
            "skipped_by_reason": dict(Counter(s.reason for s in skipped)), **extra}


def survivors(path: str | Path) -> tuple[list[str], list[Skipped]]:
    """(clip ids produced, clips skipped so far) from a stage report."""
    report = read_yaml(path)  # JSON is YAML; safe_load, one-line errors naming the file
    try:
        return list(report["clips"]), [Skipped(**s) for s in report["skipped"]]
    except (KeyError, TypeError) as err:
        raise ApexspotError(f"{path}: not a stage report of this version of apexspot ({err})") from None


def surviving(clips: list[Clip], path: str | Path) -> tuple[list[Clip], list[Skipped]]:
    """(the manifest clips a stage record lists as produced, in manifest order; the skips so far)."""
    ids, skipped = survivors(path)
    keep = set(ids)
    unknown = keep - {c.clip_id for c in clips}
    if unknown:
        raise ApexspotError(f"{path} lists clips the manifest does not have ({sorted(unknown)[:3]}): "
                            "rerun the pipeline with `dvc repro`")
    return [c for c in clips if c.clip_id in keep], skipped
