"""The face followed through the recording, as the long-recording pipeline follows it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from apexspot.core.config import AlignParams, RecordingFlowParams, TrackParams
from apexspot.core.errors import ApexspotError
from apexspot.core.face import FrameError
from apexspot.spot.source import Window


@dataclass
class Followed:
    """The window's face, followed: aligned frames (a copy of the nearest usable frame where
    the face is unusable), which frames are usable, and the unusable spans."""

    frames: np.ndarray  # T x S x S uint8
    usable: np.ndarray  # T bool
    unusable: list[dict[str, Any]]
    features: Any  # the long-recording flow (apexspot.recordings.preprocess.RecordingFlow)


def follow(clip: Window, settings: dict[str, Any], fps: float, keep_frames: bool = True,
           flow: RecordingFlowParams | None = None) -> Followed:
    """The face tracked through the window (as the long-recording pipeline does), with MTCNN
    in a child process, and the long-recording flow when `flow` is given; raises
    ApexspotError when no frame has a usable face."""
    from apexspot.core.face import ForkedDetector
    from apexspot.recordings.preprocess import mtcnn_only, process, span_records, video_frames

    face = AlignParams.from_params(settings.get("face"), "face")
    recordings = settings.get("recordings") or {}
    track = TrackParams.from_params(recordings.get("track"), "recordings.track")
    n = len(clip.numbers)
    aligned: dict[int, np.ndarray] = {}
    with ForkedDetector(face.min_confidence) as detector:
        try:
            result = process(video_frames(clip.frames()), n, fps, mtcnn_only(detector), face, track, flow,
                             on_aligned=(lambda i, frame: aligned.__setitem__(i, frame)) if keep_frames else None)
        except FrameError as err:
            raise ApexspotError(f"{clip.source}: {err.detail}") from None
    spans = span_records(result.reasons, clip.numbers, fps, clip.first, result.covered, result.details)
    good = np.flatnonzero(result.usable)
    if good.size == 0:
        where = "; ".join(f"{s['first']}..{s['last']} {s['reason']}" for s in spans)
        raise ApexspotError(f"{clip.source}: no usable face in frames {clip.onset}..{clip.offset} ({where}): "
                            f"nothing to spot")
    frames = np.empty((n if keep_frames else 0, face.size, face.size), np.uint8)
    # each frame, or the last usable one before it (the first usable one, before any)
    nearest = good[np.maximum(np.searchsorted(good, np.arange(len(frames)), side="right") - 1, 0)]
    for i, j in enumerate(nearest):
        frames[i] = aligned[int(j)]
    return Followed(frames, result.usable, spans, result)


def unusable_lines(result: dict[str, Any]) -> list[str]:
    from apexspot.recordings.preprocess import describe_span

    spans = result.get("unusable") or []
    if not spans:
        return []
    total = sum(s["frames"] for s in spans)
    out = [f"no usable face in {total} frame(s), {len(spans)} span(s); nothing is spotted there:"]
    out += [f"  frames {s['first']}..{s['last']} ({s['start_s']:.2f}-{s['end_s']:.2f} s): {describe_span(s)}"
            for s in spans]
    return out
