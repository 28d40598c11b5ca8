"""A face followed through a long recording, and the spans where there is no usable face.

A short clip gets one alignment from its onset frame; over minutes the head moves and turns
too far for that. Here the face is found by MTCNN (landmarks averaged over `face.views`
views), then followed: up to 100 corner points inside the face are tracked by pyramidal
Lucas-Kanade *from the anchor frame* (not frame to frame, so nothing drifts), and a
similarity motion is fitted to them by RANSAC and refined on the inliers. Points on a moving
brow or mouth corner are outliers of a head motion, so an expression does not move the
alignment; the fit over many points is what keeps the alignment's own jitter far below a
micro-expression (measured in docs/recordings.md). When the head has moved far from the
anchor, the current frame becomes the new anchor with the transform carried over, so the
alignment stays continuous.

MTCNN looks again every `check_every_s`: no face there, a face turned too far (the nose
moved off the eyes-mouth midline by more than `max_turn` eye distances since the
recording's first face: a face's own proportions and the camera's angle vary), or a face too small for the aligned size makes the frame
unusable; a detection far from where the tracker thinks the face is restarts the track. A
frame is also unusable when too few points follow the face (a hand over it) or the face
runs out of the picture. Each unusable frame has its reason; a new *segment* starts when the
face is found again (the alignment may jump there, so flow never crosses segments).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import cv2
import numpy as np

from apexspot.config import AlignParams, TrackParams
from apexspot.face import Detection, apply_transform, similarity_transform, target_landmarks

REASONS = ("no_face", "occluded", "out_of_frame", "too_small", "turned")
LK = dict(winSize=(15, 15), maxLevel=2, criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01))


def to3(m: np.ndarray) -> np.ndarray:
    return np.vstack([m, [0.0, 0.0, 1.0]])


def turn_of(landmarks: np.ndarray) -> float:
    """How far the nose sits off the line between the eyes' and the mouth's midpoints, in eye
    distances (0 frontal; about 0.25 at a 30-degree turn)."""
    eyes = (landmarks[0] + landmarks[1]) / 2
    mouth = (landmarks[3] + landmarks[4]) / 2
    axis = mouth - eyes
    length = float(np.linalg.norm(axis)) or 1.0
    nose = landmarks[2] - eyes
    off = abs(axis[0] * nose[1] - axis[1] * nose[0]) / length
    return off / (float(np.linalg.norm(landmarks[1] - landmarks[0])) or 1.0)


@dataclass
class Step:
    matrix: np.ndarray | None  # 2x3 frame -> aligned pixels; None when the frame is unusable
    reason: str  # '' when usable, else one of REASONS
    segment: int  # -1 when unusable
    tracked: float  # fraction of points that followed the face (1.0 right after a detection)


@dataclass
class FaceTracker:
    """Feed it frames in order (`step`); it says where the face is in each, or why not."""

    detect: Callable[[np.ndarray, int], Detection | None]  # (BGR frame, views) -> face or None
    align: AlignParams
    p: TrackParams
    fps: float
    index: int = 0
    segment: int = -1
    reason: str = "no_face"
    _ref: np.ndarray | None = None  # anchor frame (grey), cropped to _crop
    _crop: tuple[int, int, int, int] = (0, 0, 0, 0)
    _ref_points: np.ndarray | None = None
    _points: np.ndarray | None = None
    _ref_matrix: np.ndarray | None = None
    _ref_marks: np.ndarray | None = None  # the anchor's landmarks (detected, or carried by the track)
    _next_check: int = 0
    _next_try: int = 0
    _flag: str = ""  # turned / too_small, from the last check
    _misses: int = 0
    _turn0: float | None = None  # the turn of the recording's first face: a turn is measured from it
    log: list[str] = field(default_factory=list)

    def frames_of(self, seconds: float) -> int:
        return max(1, int(round(seconds * self.fps)))

    def step(self, grey: np.ndarray, colour: Callable[[], np.ndarray]) -> Step:
        i = self.index
        self.index += 1
        if self._ref is None:
            if i >= self._next_try:
                self._next_try = i + self.frames_of(self.p.retry_s)
                self._acquire(grey, colour())
            if self._ref is None:
                return Step(None, self.reason, -1, 0.0)
            return self._verdict(grey, self._ref_matrix, 1.0)
        motion, tracked = self._track(grey)
        if motion is None or tracked < self.p.min_tracked:
            self._lose(self._where_lost(grey.shape))
            return Step(None, self.reason, -1, tracked)
        matrix = (to3(self._ref_matrix) @ np.linalg.inv(to3(motion)))[:2]
        if i >= self._next_check:
            self._next_check = i + self.frames_of(self.p.check_every_s)
            if not self._check(grey, colour(), apply_transform(motion, self._ref_marks)):
                if self._ref is None:
                    return Step(None, self.reason, -1, tracked)
                return self._verdict(grey, self._ref_matrix, 1.0)  # restarted from MTCNN's landmarks
        if self._far_from_anchor(motion, tracked):
            self._anchor(grey, matrix, apply_transform(motion, self._ref_marks))
        return self._verdict(grey, matrix, tracked)

    # ------------------------------------------------------------ internals

    def _verdict(self, grey: np.ndarray, matrix: np.ndarray, tracked: float) -> Step:
        if self._flag:
            return Step(None, self._flag, -1, tracked)
        if not self._inside(matrix, grey.shape):
            return Step(None, "out_of_frame", -1, tracked)
        return Step(matrix, "", self.segment, tracked)

    def _acquire(self, grey: np.ndarray, bgr: np.ndarray) -> None:
        found = self.detect(bgr, 1)  # one view to look; all of them once there is a face
        if found is not None and self.align.views > 1:
            found = self.detect(bgr, self.align.views)
        if found is None:
            self.reason = "no_face"
            return
        why = self._unusable(found)
        if why in ("too_small",):
            self.reason = why
            return
        self.segment += 1
        self._flag = why
        self._misses = 0
        self._anchor(grey, similarity_transform(found.landmarks, self.align), found.landmarks)
        self._next_check = self.index - 1 + self.frames_of(self.p.check_every_s)

    def _unusable(self, found: Detection) -> str:
        marks = np.asarray(found.landmarks, float)
        iod = float(np.linalg.norm(marks[1] - marks[0]))
        if iod < (1 - 2 * self.align.margin) * self.align.size:
            return "too_small"
        turn = turn_of(marks)
        self._turn0 = turn if self._turn0 is None else self._turn0
        if abs(turn - self._turn0) > self.p.max_turn:
            return "turned"
        return ""

    def _anchor(self, grey: np.ndarray, matrix: np.ndarray, marks: np.ndarray) -> None:
        mask = np.zeros(grey.shape, np.uint8)
        iod = float(np.linalg.norm(marks[1] - marks[0]))
        centre = (marks[0] + marks[1] + marks[3] + marks[4]) / 4
        cv2.ellipse(mask, (int(centre[0]), int(centre[1])), (int(1.1 * iod), int(1.3 * iod)),
                    float(np.degrees(np.arctan2(*(marks[1] - marks[0])[::-1]))), 0, 360, 255, -1)
        # Lucas-Kanade runs on a crop around the face (its pyramids cost a third of the whole frame's).
        pad = 0.8 * iod
        x0, y0 = int(max(centre[0] - 1.1 * iod - pad, 0)), int(max(centre[1] - 1.3 * iod - pad, 0))
        x1 = int(min(centre[0] + 1.1 * iod + pad, grey.shape[1]))
        y1 = int(min(centre[1] + 1.3 * iod + pad, grey.shape[0]))
        if x1 - x0 < 16 or y1 - y0 < 16:
            self._lose("out_of_frame")
            return
        points = cv2.goodFeaturesToTrack(grey[y0:y1, x0:x1], maxCorners=100, qualityLevel=0.005,
                                         minDistance=max(3, iod / 12), mask=mask[y0:y1, x0:x1], blockSize=5)
        if points is None or len(points) < 12:
            self._lose("occluded")
            return
        self._crop = (x0, y0, x1, y1)
        self._ref = np.ascontiguousarray(grey[y0:y1, x0:x1])
        self._ref_points, self._points = points.astype(np.float32), points.astype(np.float32).copy()
        self._ref_matrix, self._ref_marks = matrix, np.asarray(marks, float)

    def _track(self, grey: np.ndarray) -> tuple[np.ndarray | None, float]:
        x0, y0, x1, y1 = self._crop
        points, status, _ = cv2.calcOpticalFlowPyrLK(self._ref, np.ascontiguousarray(grey[y0:y1, x0:x1]),
                                                     self._ref_points, self._points.copy(),
                                                     flags=cv2.OPTFLOW_USE_INITIAL_FLOW, **LK)
        ok = status.ravel() == 1
        if ok.sum() < 6:
            return None, float(ok.mean())
        offset = np.array([x0, y0], np.float32)
        motion, inliers = cv2.estimateAffinePartial2D(self._ref_points[ok] + offset, points[ok] + offset,
                                                      method=cv2.RANSAC,
                                                      ransacReprojThreshold=1.0, maxIters=500, confidence=0.995,
                                                      refineIters=10)
        if motion is None:
            return None, 0.0
        tracked = float(inliers.sum()) / len(self._ref_points)
        # Next frame starts from where the head motion puts every point (lost ones too).
        self._points = (cv2.transform(self._ref_points + offset, motion) - offset).astype(np.float32)
        return motion, tracked

    def _far_from_anchor(self, motion: np.ndarray, tracked: float) -> bool:
        scale = float(np.hypot(motion[0, 0], motion[1, 0]))
        angle = float(np.degrees(np.arctan2(motion[1, 0], motion[0, 0])))
        return tracked < self.p.reanchor_below or abs(np.log(scale)) > 0.1 or abs(angle) > 10

    def _check(self, grey: np.ndarray, bgr: np.ndarray, expected: np.ndarray) -> bool:
        """MTCNN's look at the frame; False when the track must restart (or stop)."""
        found = self.detect(bgr, 1)
        if found is None:
            self._misses += 1
            if self._misses >= 2:
                self._lose("no_face")
                return False
            return True
        self._misses = 0
        self._flag = self._unusable(found)
        iod = float(np.linalg.norm(expected[1] - expected[0]))
        error = float(np.mean(np.linalg.norm(np.asarray(found.landmarks) - expected, axis=1)))
        if error > self.p.restart_at * iod:  # the tracker followed something else: start again from MTCNN
            self.log.append(f"frame {self.index - 1}: track restarted (landmarks {error:.1f} px from the track)")
            self.segment += 1
            self._anchor(grey, similarity_transform(found.landmarks, self.align), found.landmarks)
            return False
        return True

    def _lose(self, reason: str) -> None:
        self.reason = reason
        self._ref = self._ref_points = self._points = None
        self._next_try = self.index + self.frames_of(self.p.retry_s) - 1
        self._flag = ""

    def _where_lost(self, shape: tuple[int, ...]) -> str:
        return "occluded" if self._ref_matrix is None or self._inside(self._ref_matrix, shape) else "out_of_frame"

    def _inside(self, matrix: np.ndarray, shape: tuple[int, ...]) -> bool:
        """Whether the aligned square's face (its landmarks, with a margin) lies in the picture."""
        marks = apply_transform(cv2.invertAffineTransform(matrix), target_landmarks(self.align))
        iod = float(np.linalg.norm(marks[1] - marks[0]))
        lo, hi = marks.min(0) - 0.3 * iod, marks.max(0) + 0.3 * iod
        return bool(lo[0] >= 0 and lo[1] >= 0 and hi[0] < shape[1] and hi[1] < shape[0])


def spans(reasons: list[str], first: int = 0) -> list[tuple[int, int, str]]:
    """(first frame, last frame, reason) of every run of unusable frames, numbered from `first`."""
    out: list[tuple[int, int, str]] = []
    for i, reason in enumerate(reasons):
        if not reason:
            continue
        if out and out[-1][2] == reason and out[-1][1] == first + i - 1:
            out[-1] = (out[-1][0], first + i, reason)
        else:
            out.append((first + i, first + i, reason))
    return out


def pad_unusable(reasons: list[str], pad: int) -> list[str]:
    """Frames within `pad` of an unusable one are unusable too (a hand entering the picture,
    the face turning away: the frames just before the tracker gives up are already spoiled)."""
    out = list(reasons)
    n = len(reasons)
    for i, reason in enumerate(reasons):
        if reason:
            for j in range(max(0, i - pad), min(n, i + pad + 1)):
                if not out[j]:
                    out[j] = reason
    return out

