"""The face-align stage: one similarity alignment for the whole clip, from its onset frame.

Aligning each frame on its own landmarks adds jitter larger than a micro-expression, so a
clip gets one transform, computed on its onset frame (eyes level, fixed inter-ocular
distance) and applied to every frame. Head motion that remains is removed later, from the
flow (see apexspot.core.flow).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from apexspot.core import arrayfiles
from apexspot.core.config import AlignParams
from apexspot.core.face import (Detection, FaceDetector, FrameError, apply_transform, read_frame,
                                similarity_transform)
from apexspot.core.sheet import Skipped
from apexspot.core.workers import worker_state


def reduction_for(matrix: np.ndarray) -> int:
    """The largest JPEG decode reduction (1, 2, 4) that still samples at least the output rate.

    Decoding at 1/2 size in the DCT domain is faster than a full decode and averages the
    pixels a full-size warp would alias; the face loses nothing at the output size.
    """
    shrink = 1 / np.linalg.norm(matrix[:, 0])  # frame pixels per aligned pixel
    return next((r for r in (4, 2) if r <= shrink), 1)


def for_reduced(matrix: np.ndarray, r: int) -> np.ndarray:
    """The same transform for an image decoded at 1/r size (pixel u covers r*u .. r*u+r-1)."""
    out = matrix.copy()
    out[:, :2] *= r
    out[:, 2] += matrix[:, :2] @ np.full(2, (r - 1) / 2)
    return out


@dataclass
class AlignedClip:
    frames: np.ndarray  # T x S x S uint8
    landmarks: np.ndarray  # 5 x 2, onset frame pixels
    aligned_landmarks: np.ndarray  # 5 x 2, aligned pixels
    transform: np.ndarray  # 2 x 3, frame pixels -> aligned pixels
    detector: str
    confidence: float
    reduction: int


def onset_transform(onset: np.ndarray, where: str, detector: FaceDetector,
                    p: AlignParams) -> tuple[Detection, np.ndarray]:
    """The face on the onset frame and the one transform the whole clip gets."""
    found = detector.detect(onset, p.views)
    if found is None:
        raise FrameError("no_face", f"no face found by MTCNN or the Haar cascade in {where}")
    marks = np.asarray(found.landmarks, float)
    iod = float(np.linalg.norm(marks[1] - marks[0])) if marks.shape == (5, 2) else 0.0
    if not np.all(np.isfinite(marks)) or iod < 2:
        raise FrameError("unusable_face", f"the face found in {where} has degenerate landmarks")
    target_iod = (1 - 2 * p.margin) * p.size
    if iod < target_iod:
        raise FrameError("face_too_small", f"the face in {where} has its eyes {iod:.0f} px apart; the aligned "
                         f"{p.size}x{p.size} frame needs at least {target_iod:.0f} (lower face.size)")
    return found, similarity_transform(marks, p)


def align_clip(paths: list[Path], detector: FaceDetector, p: AlignParams) -> AlignedClip:
    """Detect on the first (onset) frame, then warp every frame with that one transform."""
    onset = read_frame(paths[0], color=True)
    found, matrix = onset_transform(onset, str(paths[0]), detector, p)
    r = reduction_for(matrix)
    reduced = for_reduced(matrix, r)
    height, width = onset.shape[:2]
    out = np.empty((len(paths), p.size, p.size), np.uint8)
    for i, path in enumerate(paths):
        image = read_frame(path, reduction=r)
        if abs(image.shape[0] * r - height) >= r or abs(image.shape[1] * r - width) >= r:
            raise FrameError("wrong_frame_size",
                             f"{path} is {image.shape[1] * r}x{image.shape[0] * r}, the onset frame {width}x{height}")
        out[i] = cv2.warpAffine(image, reduced, (p.size, p.size), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_REPLICATE)
    return AlignedClip(out, found.landmarks, apply_transform(matrix, found.landmarks), matrix,
                       found.detector, found.confidence, r)


def align_to_file(job: tuple[Any, Path, AlignParams]) -> dict[str, Any]:
    """Align one manifest clip and save it; a bad frame or no face becomes a skip record."""
    clip, out_root, p = job
    paths = [clip.frame_path(f) for f in range(clip.onset, clip.offset + 1)]
    try:
        aligned = align_clip(paths, worker_state()["detector"], p)
    except FrameError as err:
        return Skipped.of(clip, "face-align", err.reason, err.detail)
    except Exception as err:  # noqa: BLE001  one odd clip must not take down the stage
        return Skipped.of(clip, "face-align", "alignment_failed", f"{type(err).__name__}: {err}")
    arrayfiles.save(
        arrayfiles.clip_file(out_root, clip.clip_id),
        frames=aligned.frames, frame_numbers=np.arange(clip.onset, clip.offset + 1, dtype=np.int32),
        landmarks=aligned.landmarks.astype(np.float32),
        aligned_landmarks=aligned.aligned_landmarks.astype(np.float32),
        transform=aligned.transform.astype(np.float64), detector=np.array(aligned.detector),
        confidence=np.float32(aligned.confidence),
    )
    return {"clip_id": clip.clip_id, "detector": aligned.detector, "confidence": aligned.confidence,
            "frames": len(paths)}
