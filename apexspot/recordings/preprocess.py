"""Decode, follow the face and compute flow in one pass over a long recording.

Each frame is decoded once (grey; colour only for the frames MTCNN looks at), aligned by
the face tracker, and its flow computed against the aligned frame `references_s` seconds
earlier (a moving reference, as MEGC spotters do: flow from the onset of a minute-long
recording would accumulate every head movement and lighting change). Flow never crosses
an unusable frame or a new track segment. A frame that is not there to follow is unusable
with its own reason, naming the file: `missing_frame` (a number missing in a folder's
numbering, or an empty file), `corrupt_frame` (a file or a video frame that does not decode
cleanly), `frame_size` (a picture of another size than the recording's). Head motion left after alignment is removed by
the same robust similarity fit as in short clips, and the flow is pooled to a grid of cells
(u, v and magnitude per cell): the recording's file holds a few hundred numbers a frame,
not an image, so a SAMM Long Videos recording of a minute is a few megabytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import cv2
import numpy as np

from apexspot.core import arrayfiles, frames as frame_files
from apexspot.core.config import AlignParams, RecordingFlowParams, TrackParams
from apexspot.core.face import Detection, FrameError, read_frame, target_landmarks
from apexspot.core.flow import face_mask, flow_function, head_motion, remove_head_motion
from apexspot.core.frames import BadFrame, read_files
from apexspot.recordings.track import FaceTracker, REASONS as TRACK_REASONS, REGIONS, pad_unusable, spans

CHANNELS = ("u", "v", "magnitude")
REASONS = TRACK_REASONS + frame_files.REASONS

Frame = tuple[np.ndarray, Callable[[], np.ndarray]] | BadFrame  # (grey, colour loader) or why not


def reference_frames(p: RecordingFlowParams, fps: float) -> list[int]:
    """The references in frames (at least 1): 0.2 s is 6 frames at 30 fps, 40 at 200 fps."""
    return [max(1, int(round(s * fps))) for s in p.references_s]


def pooled(flow: np.ndarray, grid: int) -> np.ndarray:
    """grid x grid x 3: mean u, mean v and mean magnitude of each cell (aligned pixels)."""
    uv = cv2.resize(flow, (grid, grid), interpolation=cv2.INTER_AREA)
    mag = cv2.resize(np.hypot(flow[..., 0], flow[..., 1]), (grid, grid), interpolation=cv2.INTER_AREA)
    return np.dstack([uv, mag])


def sampled(n: int, fps: float, rate: float) -> np.ndarray:
    """The frames flow is computed at: `rate` a second, nearest frame (all of them when the
    recording is no faster). At 200 fps neighbouring frames are near-copies; every 6.7th
    carries the same motion at a seventh of the cost."""
    stride = max(fps / rate, 1.0)
    return np.unique(np.round(np.arange(0, n, stride)).astype(int).clip(0, max(n - 1, 0)))


@dataclass
class RecordingFlow:
    positions: np.ndarray  # m frame positions (0-based) the flow was computed at
    features: np.ndarray  # m x R x grid x grid x 3 float16 (R references); 0 where not valid
    valid: np.ndarray  # m x R bool: flow exists (both frames usable, same segment, nothing unusable between)
    usable: np.ndarray  # n bool, every frame, after padding
    reasons: list[str]  # n, '' when usable
    covered: np.ndarray  # n int16: bit k set when REGIONS[k] was covered in that frame
    matrices: np.ndarray  # n x 2 x 3 float32 (NaN where the face is lost)
    segments: np.ndarray  # n int32, -1 where unusable
    references: list[int]  # frames
    details: dict[int, str]  # frame position -> what is wrong with its file (BadFrame.detail)


def too_short(n: int, fps: float, p: RecordingFlowParams) -> str:
    """Why `n` frames hold no flow at all ('' when they do): every flow compares a frame with
    the one `references_s` earlier."""
    shortest = min(reference_frames(p, fps))
    if n > shortest:
        return ""
    return (f"{n} frame(s) ({n / fps:.2f} s at {fps:g} fps) are too few: flow compares each frame with the one "
            f"{min(p.references_s):g} s ({shortest} frames) earlier, so a recording needs at least {shortest + 1} frames")


def process(frames: Iterator[Frame], n: int, fps: float,
            detect: Callable[[np.ndarray, int], Detection | None], align: AlignParams, track: TrackParams,
            p: RecordingFlowParams | None, on_aligned: Callable[[int, np.ndarray], None] | None = None) -> RecordingFlow:
    """Everything the long-recording stages need from `n` frames given as (grey, colour loader),
    or as a BadFrame. Every frame is tracked (the face must not jump between looks); flow is
    computed at the `sampled` frames (none when `p` is None: the face alone)."""
    refs = reference_frames(p, fps) if p else []
    depth = max(refs, default=0)
    tracker = FaceTracker(detect, align, track, fps)
    if p is not None:
        # Farnebäck with two iterations a level, not three: at 192 px the third costs a fifth
        # of the time (measured together with the other speed changes, docs/recordings.md).
        compute = flow_function(p.method, iterations=2)
        scale = p.size / align.size  # flow at p.size, in pixels of the face.size face
        mask = face_mask(p.size, target_landmarks(align) * scale)
        # Flow only inside the face's box (a third of the square is hair and background): no
        # motion outside it. The head-motion fit keeps about as many points at any size.
        ys, xs = np.nonzero(mask)
        box = np.s_[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
        fit_step = max(3, int(round(3 * scale)))
    positions = sampled(n, fps, p.rate) if p else np.zeros(0, np.int64)
    step_of = np.full(n, -1, np.int64)
    step_of[positions] = np.arange(len(positions))
    ring: list[np.ndarray | None] = [None] * (depth + 1)
    grid = p.grid if p else 0
    features = np.zeros((len(positions), len(refs), grid, grid, 3), np.float16)
    valid = np.zeros((len(positions), len(refs)), bool)
    matrices = np.full((n, 2, 3), np.nan, np.float32)
    segments = np.full(n, -1, np.int32)
    reasons = [""] * n
    covered = np.zeros(n, np.int16)
    details: dict[int, str] = {}
    last_bad = -1
    count = 0
    for i, frame in enumerate(frames):
        if i >= n:
            break
        count += 1
        if isinstance(frame, BadFrame):
            tracker.skip()
            reasons[i], details[i] = frame.reason, frame.detail
            last_bad = i
            ring[i % (depth + 1)] = None
            continue
        grey, colour = frame
        step = tracker.step(grey, colour)
        reasons[i] = step.reason
        covered[i] = sum(1 << REGIONS.index(r) for r in step.covered)
        if step.matrix is None:
            last_bad = i
            ring[i % (depth + 1)] = None
            continue
        matrices[i], segments[i] = step.matrix, step.segment
        if on_aligned is not None:
            on_aligned(i, cv2.warpAffine(grey, step.matrix, (align.size, align.size), flags=cv2.INTER_LINEAR,
                                         borderMode=cv2.BORDER_REPLICATE))
        if p is None:
            continue
        aligned = cv2.warpAffine(grey, step.matrix * np.float32(scale), (p.size, p.size), flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_REPLICATE)
        ring[i % (depth + 1)] = aligned
        if step_of[i] < 0:
            continue
        for j, k in enumerate(refs):
            if i - k <= last_bad or segments[i - k] != step.segment:
                continue
            flow = np.zeros((p.size, p.size, 2), np.float32)
            flow[box] = compute(ring[(i - k) % (depth + 1)][box], aligned[box])
            flow[box] = remove_head_motion(flow, head_motion(flow, mask, fit_step))[box]
            features[step_of[i], j] = pooled(flow / np.float32(scale), p.grid)
            valid[step_of[i], j] = True
    if count < n:
        raise FrameError("short_recording", f"only {count} of {n} frames could be read")
    padded = pad_unusable(reasons, max(0, int(round(track.pad_s * fps))))
    usable = np.array([not r for r in padded], bool)
    # Flow is valid only where its frame and its reference (and every frame between) are usable.
    bad_before = np.concatenate([[0], np.cumsum(~usable)])
    for j, k in enumerate(refs):
        start = np.maximum(positions - k, 0)
        clean = (bad_before[positions + 1] - bad_before[start]) == 0
        valid[:, j] &= clean & (positions >= k)
    features[~valid] = 0
    return RecordingFlow(positions, features, valid, usable, padded, covered, matrices, segments, refs, details)


def folder_frames(paths: list[Path]) -> Iterator[Frame]:
    """Each file's frame (grey, colour read when asked for), or why it cannot be one."""
    for item in read_files(paths):
        yield item if isinstance(item, BadFrame) else (item[1], (lambda path=item[0]: read_frame(path, color=True)))


def video_frames(frames: Iterator[np.ndarray | BadFrame]) -> Iterator[Frame]:
    for bgr in frames:
        yield bgr if isinstance(bgr, BadFrame) else (cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), (lambda bgr=bgr: bgr))


def covered_parts(bits: np.ndarray) -> list[str]:
    """The REGIONS named by any of the frames' covered bits."""
    union = int(np.bitwise_or.reduce(np.asarray(bits, np.int64))) if len(bits) else 0
    return [r for k, r in enumerate(REGIONS) if union >> k & 1]


def span_records(reasons: list[str], numbers: list[int], fps: float, first: int | None = None,
                 covered: np.ndarray | None = None, details: dict[int, str] | None = None) -> list[dict[str, Any]]:
    """Unusable spans in the recording's own numbering, and in seconds from its frame numbered
    `first` (default: the first of `numbers`); an occluded span names the facial regions that
    were covered (`parts`), a span of bad files the first file and how many more (`detail`)."""
    first = numbers[0] if first is None else first
    out = []
    for a, b, reason in spans(reasons):
        record = {"first": numbers[a], "last": numbers[b], "frames": b - a + 1, "reason": reason,
                  "start_s": round((numbers[a] - first) / fps, 3), "end_s": round((numbers[b] - first + 1) / fps, 3)}
        if reason == "occluded" and covered is not None:
            record["parts"] = covered_parts(covered[a:b + 1])
        said = [details[i] for i in range(a, b + 1) if details and i in details]
        if said:
            record["detail"] = said[0] + (f" (and {len(said) - 1} more frame(s) like it)" if len(said) > 1 else "")
        out.append(record)
    return out


def describe_span(s: dict[str, Any]) -> str:
    """'occluded (mouth, chin covered)', 'frame_size: img011.jpg is 400x300 ...', or the reason alone."""
    parts = s.get("parts")
    if parts:
        return f"{s['reason']} ({', '.join(parts)} covered)"
    return f"{s['reason']}: {s['detail']}" if s.get("detail") else s["reason"]


def save(path: Path, result: RecordingFlow, numbers: list[int], fps: float, p: RecordingFlowParams) -> None:
    codes = np.array([REASONS.index(r) + 1 if r else 0 for r in result.reasons], np.int8)
    arrayfiles.save(path, positions=result.positions.astype(np.int32), features=result.features, valid=result.valid,
                   usable=result.usable, reasons=codes, covered=result.covered,
                   reason_names=np.array(("",) + REASONS), numbers=np.asarray(numbers, np.int32),
                   matrices=result.matrices, segments=result.segments,
                   references=np.asarray(result.references, np.int32), fps=np.float32(fps),
                   channels=np.array(CHANNELS), method=np.array(p.method))


def load(path: Path) -> dict[str, np.ndarray]:
    return arrayfiles.load(path)


def recording_file(root: str | Path, recording_id: str) -> Path:
    return arrayfiles.clip_file(root, recording_id)


def mtcnn_only(detector: Any) -> Callable[[np.ndarray, int], Detection | None]:
    """MTCNN's face or None: the Haar cascade's guessed landmarks are too coarse to anchor a
    track on, and it finds "faces" in a hand."""
    last: list = [None, None]  # the frame last looked at with one view, and what was found

    def detect(bgr: np.ndarray, views: int) -> Detection | None:
        # A second, closer look at the same frame starts from the first (a whole-frame MTCNN
        # pass is about 0.3 s: every new track did it twice).
        first = last[1] if views > 1 and last[0] is bgr else None
        found = detector.detect(bgr, views, first) if first is not None else detector.detect(bgr, views)
        if views == 1:
            last[:] = [bgr, found]
        return found if found is not None and found.detector == "mtcnn" else None
    return detect


def worker_setup(min_confidence: float) -> dict[str, Any]:
    """One MTCNN per worker, and OpenCV on one thread: the stage runs one worker per core, and
    OpenCV's own threads would only contend with the other workers (measured: 161 -> %s frames/s)."""
    from apexspot.core.face import detector_state

    cv2.setNumThreads(1)
    return detector_state(min_confidence)


def preprocess_to_file(job: tuple[Any, Path, AlignParams, TrackParams, RecordingFlowParams]) -> dict[str, Any]:
    """One recording through decode, tracking and flow, saved as one file; a recording that
    cannot be read is a skip record naming it."""
    import time

    from apexspot.core.workers import worker_state

    rec, out_root, align, track, flow = job
    start = time.perf_counter()
    # Every number first..last is a frame: one missing on disk is an unusable frame in its
    # place, so time stays uniform and no flow spans the gap.
    numbers = list(range(rec.first, rec.last + 1))
    short = too_short(len(numbers), rec.fps, flow)
    if short:
        return {"recording_id": rec.recording_id, "skipped": "too_short", "detail": short}
    try:
        result = process(folder_frames([rec.frame_path(n) for n in numbers]), len(numbers), rec.fps,
                         mtcnn_only(worker_state()["detector"]), align, track, flow)
    except FrameError as err:
        return {"recording_id": rec.recording_id, "skipped": err.reason, "detail": err.detail}
    save(recording_file(out_root, rec.recording_id), result, numbers, rec.fps, flow)
    missing = sum(r == "missing_frame" for r in result.reasons)
    return {"recording_id": rec.recording_id, "frames": len(numbers), "usable": round(float(result.usable.mean()), 4),
            "unusable": span_records(result.reasons, numbers, rec.fps, covered=result.covered,
                                     details=result.details),
            "gaps": int(missing), "seconds": round(time.perf_counter() - start, 2)}
