"""A face followed through a long recording, and the spans where there is no usable face.

A short clip gets one alignment from its onset frame; over minutes the head moves and turns
too far for that. Here the face is found by MTCNN (landmarks averaged over `face.views`
views), then followed by pyramidal Lucas-Kanade *from the anchor frame* (not frame to frame,
so nothing drifts) on two sets of corner points:

- the **rigid** set, on what an expression leaves in place (forehead above the brows,
  temples, nose bridge and nose): the head's similarity motion is fitted to these alone, by
  RANSAC refined on the inliers, so a laugh, a frown or shut eyes do not move the alignment;
- the **expressive** set (brows, eyes, cheeks, mouth, chin), which only helps to judge
  whether the face is covered.

Whether the face is *covered* is decided from its appearance, never from how many points
moved: a point has lost the face when Lucas-Kanade loses it or the patch around it no longer
looks like the anchor's (normalised cross-correlation below `COVER_NCC`, the patch sampled
through the head's motion so a turned or nodding head still matches). On the nose, which no
expression changes, a changed look is enough; elsewhere shut eyes, an open mouth, raised
cheeks or a wrinkled forehead change the look too (and the forehead's faint texture changes
with the light), so there it counts only when the point has also been dragged far off the
head's motion (more than `COVER_SHIFT` eye distances, more for the
mouth and chin, which a laugh moves furthest: a hand sweeping over the face carries the
points with it by more). A facial region (`REGIONS`) with at least `max_covered` of its points covered is
covered, and a frame with a covered region is `occluded`, naming the regions. So a smile,
a laugh or closed eyes stay usable (measured on real footage in docs/recordings.md), and a
hand over the mouth alone still makes the frame unusable: the spotter reads the whole face,
and a hand's motion in the mouth's cells would look like an expression.

MTCNN looks again every `check_every_s`: no face there, a face turned too far (the nose
moved off the eyes-mouth midline by more than `max_turn` eye distances since the
recording's first face: a face's own proportions and the camera's angle vary), or a face
too small for the aligned size makes the frame unusable; a detection far from where the
tracker thinks the face is restarts the track. When the head has moved far from the anchor
(or too few rigid points still fit its motion) the current frame becomes the new anchor
with the transform carried over, so the alignment stays continuous. Each unusable frame has
its reason; a new *segment* starts when the face is found again (the alignment may jump
there, so flow never crosses segments).

One module, longer than the others: the follower is one state machine (anchor, track,
check, re-anchor, lose, find again) whose steps share its state; split, each part would
reach into the others' fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import cv2
import numpy as np

from apexspot.core.config import AlignParams, TrackParams
from apexspot.core.face import Detection, apply_transform, similarity_transform, target_landmarks

REASONS = ("no_face", "occluded", "out_of_frame", "too_small", "turned")
REGIONS = ("forehead", "temples", "nose", "brows", "eyes", "cheeks", "mouth", "chin")
RIGID = ("forehead", "temples", "nose")
LK = dict(winSize=(15, 15), maxLevel=2, criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01))
COVER_NCC = 0.5  # a patch correlating less than this with the anchor's no longer shows the same skin
# Eye distances off the head's motion that a muscle does not move a point (a jaw dropping in a
# laugh moves the mouth and chin furthest): beyond, something dragged it. 0: the look alone
# decides (nothing an expression does changes the nose's look).
COVER_SHIFT = np.array([{"nose": 0.0, "mouth": 0.6, "chin": 0.6}.get(r, 0.35) for r in REGIONS])
PATCH = 11  # pixels a side of the appearance patches
GONE = 0.8  # with this share of all points changed in look, the face is gone from where it was
BLANK = 2.0  # grey levels: a face crop with less contrast than this is a blank picture
LOOK_SIZE = 48.0  # pixels of the face's size in the crop MTCNN checks the track on
MIN_JUDGED = 6  # a region with fewer points is not judged (two stray points would decide it)


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


def face_coordinates(points: np.ndarray, marks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points in the face's own frame: u across (eye distances from the eyes' midpoint, signed),
    v down (0 on the eye line, 1 on the mouth line)."""
    eyes = (marks[0] + marks[1]) / 2
    iod = float(np.linalg.norm(marks[1] - marks[0])) or 1.0
    across = (marks[1] - marks[0]) / iod
    down = np.array([-across[1], across[0]])
    mouth = float(((marks[3] + marks[4]) / 2 - eyes) @ down) or iod
    rel = np.asarray(points, float) - eyes
    return rel @ across / iod, rel @ down / mouth


def region_index(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Each point's index into REGIONS (face coordinates as `face_coordinates` gives them)."""
    au = np.abs(u)
    return np.select(
        [v < -0.45, (au > 0.8) & (v < 0.35), (au < 0.22) & (v >= -0.15) & (v < 0.6),
         v < -0.15, v < 0.25, v < 0.8, v < 1.25],
        [0, 1, 2, 3, 4, 5, 6], default=7)


def face_masks(shape: tuple[int, int], marks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """uint8 masks (255 inside) of the face's rigid and expressive regions in a frame."""
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
    u, v = face_coordinates(np.stack([xx.ravel(), yy.ravel()], 1), marks)
    inside = (u / 1.05) ** 2 + ((v - 0.35) / 1.15) ** 2 < 1
    rigid = np.isin(region_index(u, v), [REGIONS.index(r) for r in RIGID])
    return ((inside & rigid) * 255).astype(np.uint8).reshape(shape), ((inside & ~rigid) * 255).astype(np.uint8).reshape(shape)


def patches(grey: np.ndarray, points: np.ndarray, linear: np.ndarray | None = None) -> np.ndarray:
    """PATCH x PATCH patches around each point (bilinear), sampled along the axes `linear`
    (2x2; the head's rotation and scale) when given; zero-mean, unit-norm rows."""
    half = (PATCH - 1) / 2
    oy, ox = np.mgrid[-half:half + 1, -half:half + 1].astype(np.float32)
    if linear is not None:
        ox, oy = linear[0, 0] * ox + linear[0, 1] * oy, linear[1, 0] * ox + linear[1, 1] * oy
    mx = (points[:, 0, None, None] + ox[None]).astype(np.float32).reshape(-1, PATCH)
    my = (points[:, 1, None, None] + oy[None]).astype(np.float32).reshape(-1, PATCH)
    out = cv2.remap(grey, mx, my, cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_REPLICATE).reshape(len(points), -1).astype(np.float32)
    out -= out.mean(1, keepdims=True)
    return out / (np.linalg.norm(out, axis=1, keepdims=True) + 1e-3)


@dataclass
class Step:
    matrix: np.ndarray | None  # 2x3 frame -> aligned pixels; None when the frame is unusable
    reason: str  # '' when usable, else one of REASONS
    segment: int  # -1 when unusable
    tracked: float  # fraction of the rigid points that follow the head's motion (1.0 right after a detection)
    covered: tuple[str, ...] = ()  # the REGIONS something covers (when `reason` is occluded)


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
    _ref_points: np.ndarray | None = None  # rigid points first, then expressive ones
    _rigid: np.ndarray | None = None  # bool per point
    _regions: np.ndarray | None = None  # index into REGIONS per point
    _ref_patches: np.ndarray | None = None
    _iod: float = 1.0
    _ref_level: tuple[float, float] = (0.0, 1.0)  # the anchor crop's mean and standard deviation
    _points: np.ndarray | None = None
    _ref_matrix: np.ndarray | None = None
    _ref_marks: np.ndarray | None = None  # the anchor's landmarks (detected, or carried by the track)
    _next_check: int = 0
    _next_try: int = 0
    _flag: str = ""  # turned / too_small, from the last check
    _misses: int = 0
    _turn0: float | None = None  # the turn of the recording's first face: a turn is measured from it
    _covered: bool = False  # the last frame had a covered region
    _clear: bool = True  # no region of the last frame was even half as covered as max_covered
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
        motion, tracked, covered = self._track(grey)
        was_covered, self._covered = self._covered, bool(covered)
        if motion is None:
            self._lose(self._where_lost(grey.shape, None if was_covered else colour))
            return Step(None, self.reason, -1, tracked)
        matrix = (to3(self._ref_matrix) @ np.linalg.inv(to3(motion)))[:2]
        if covered:  # keep the anchor (and its look of the face) until the face shows again ...
            if not self._inside(matrix, grey.shape):
                return Step(None, "out_of_frame", -1, tracked)
            if i < self._next_check:
                return Step(None, "occluded", -1, tracked, covered)
            self._next_check = i + self.frames_of(self.p.check_every_s)
            if not self._seen_again(grey, colour(), apply_transform(motion, self._ref_marks), tracked):
                return Step(None, "occluded", -1, tracked, covered)
            return self._verdict(grey, self._ref_matrix, 1.0)  # ... or MTCNN saw it: a new anchor
        confirmed = False
        if i >= self._next_check:
            self._next_check = i + self.frames_of(self.p.check_every_s)
            if not self._check(grey, colour(), apply_transform(motion, self._ref_marks)):
                if self._ref is None:
                    return Step(None, self.reason, -1, tracked)
                return self._verdict(grey, self._ref_matrix, 1.0)  # restarted from MTCNN's landmarks
            confirmed = True
        # A new anchor where the head moved far; or where MTCNN has just confirmed the face while
        # part of it no longer looks like the anchor (an anchor taken as the face came back into
        # the picture, or before a change of light, would otherwise stay stale).
        if self._far_from_anchor(motion, tracked) or (confirmed and not self._clear):
            self._anchor(grey, matrix, apply_transform(motion, self._ref_marks))
        return self._verdict(grey, matrix, tracked)

    def skip(self) -> None:
        """A frame that is not there to look at (missing, damaged): time moves on, the track
        does not (it follows from the anchor, so the next frame starts where this one would)."""
        self.index += 1

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
        x, y, w, h = np.asarray(found.box, float)
        if x < 1 or y < 1 or x + w > bgr.shape[1] - 1 or y + h > bgr.shape[0] - 1:
            # Part of the face is outside the picture (coming back into it): MTCNN's landmarks
            # are off there, and an anchor on them would be off for as long as it lasts.
            self.reason = "out_of_frame"
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
        marks = np.asarray(marks, float)
        iod = float(np.linalg.norm(marks[1] - marks[0]))
        centre = (marks[0] + marks[1] + marks[3] + marks[4]) / 4
        # Lucas-Kanade runs on a crop around the face (its pyramids cost a third of the whole frame's).
        pad = 0.8 * iod
        x0, y0 = int(max(centre[0] - 1.3 * iod - pad, 0)), int(max(centre[1] - 1.6 * iod - pad, 0))
        x1 = int(min(centre[0] + 1.3 * iod + pad, grey.shape[1]))
        y1 = int(min(centre[1] + 1.4 * iod + pad, grey.shape[0]))
        if x1 - x0 < 16 or y1 - y0 < 16:
            self._lose("out_of_frame")
            return
        crop = np.ascontiguousarray(grey[y0:y1, x0:x1])
        offset = np.array([x0, y0], float)
        rigid_mask, other_mask = face_masks(crop.shape, marks - offset)
        found = []
        for mask in (rigid_mask, other_mask):
            points = cv2.goodFeaturesToTrack(crop, maxCorners=60, qualityLevel=0.005, minDistance=max(3, iod / 12),
                                             mask=mask, blockSize=5)
            found.append(np.zeros((0, 2), np.float32) if points is None else points.reshape(-1, 2).astype(np.float32))
        points = np.concatenate(found)
        if len(found[0]) < 8 or len(points) < 12:
            self._lose("occluded")
            return
        self._crop, self._ref, self._iod = (x0, y0, x1, y1), crop, iod
        self._rigid = np.arange(len(points)) < len(found[0])
        self._regions = region_index(*face_coordinates(points + offset, marks))
        self._ref_points, self._points = points, points.copy()
        self._ref_patches = patches(crop, points)
        mean, std = cv2.meanStdDev(crop)
        self._ref_level = (float(mean[0, 0]), max(float(std[0, 0]), 1.0))
        self._ref_matrix, self._ref_marks = matrix, marks

    def _track(self, grey: np.ndarray) -> tuple[np.ndarray | None, float, tuple[str, ...]]:
        """The head's motion from the anchor (or None), the fraction of rigid points that fit
        it, and the regions something covers."""
        x0, y0, x1, y1 = self._crop
        crop = self._levelled(grey[y0:y1, x0:x1])
        if crop is None:  # a blank picture: a black frame, the lens covered
            return None, 0.0, ()
        points, status, _ = cv2.calcOpticalFlowPyrLK(self._ref, crop, self._ref_points.reshape(-1, 1, 2),
                                                     self._points.reshape(-1, 1, 2).copy(),
                                                     flags=cv2.OPTFLOW_USE_INITIAL_FLOW, **LK)
        points = points.reshape(-1, 2)
        ok = status.ravel() == 1
        fit = ok & self._rigid
        if fit.sum() < 6:  # the rigid points are gone: a large occluder, or the face left
            return None, float(fit.sum()) / max(int(self._rigid.sum()), 1), ()
        offset = np.array([x0, y0], np.float32)
        motion, inliers = cv2.estimateAffinePartial2D(self._ref_points[fit] + offset, points[fit] + offset,
                                                      method=cv2.RANSAC, ransacReprojThreshold=1.0, maxIters=500,
                                                      confidence=0.995, refineIters=10)
        if motion is None:
            return None, 0.0, ()
        tracked = float(inliers.sum()) / int(self._rigid.sum())
        expected = cv2.transform((self._ref_points + offset).reshape(-1, 1, 2), motion).reshape(-1, 2) - offset
        # Next frame starts from where the head motion puts every point (lost ones too).
        self._points = expected.astype(np.float32)
        shifted = np.linalg.norm(points - expected, axis=1) > COVER_SHIFT[self._regions] * self._iod
        looks = np.einsum("ij,ij->i", self._ref_patches, patches(crop, points, motion[:, :2]))
        changed = ~ok | (looks < COVER_NCC)
        if changed.mean() > GONE:  # nearly nothing looks like the face: a cut, or the face wholly hidden
            return None, tracked, ()
        lost = changed & (shifted | (COVER_SHIFT[self._regions] == 0))
        counts = np.bincount(self._regions, minlength=len(REGIONS))
        share = np.bincount(self._regions, weights=lost, minlength=len(REGIONS)) / np.maximum(counts, 1)
        judged = counts >= MIN_JUDGED
        self._clear = bool(np.all(share[judged] < self.p.max_covered / 2))
        covered = tuple(r for r, n, s in zip(REGIONS, judged, share) if n and s >= self.p.max_covered)
        return motion, tracked, covered

    def _levelled(self, crop: np.ndarray) -> np.ndarray | None:
        """The crop with the anchor's brightness and contrast: Lucas-Kanade assumes constant
        brightness, and under a lighting change (or a camera's auto-exposure) points on faint
        texture such as the forehead slide off. None for a blank picture."""
        mean, std = cv2.meanStdDev(crop)
        if float(std[0, 0]) < BLANK:
            return None
        gain = self._ref_level[1] / float(std[0, 0])
        return cv2.convertScaleAbs(crop, alpha=gain, beta=self._ref_level[0] - gain * float(mean[0, 0]))

    def _far_from_anchor(self, motion: np.ndarray, tracked: float) -> bool:
        """Time for a new anchor: the head has turned, scaled or moved so that few rigid points
        still fit, and the face is in clear view (a frame with something coming over the face
        would make that something part of the face's look)."""
        scale = float(np.hypot(motion[0, 0], motion[1, 0]))
        angle = float(np.degrees(np.arctan2(motion[1, 0], motion[0, 0])))
        far = tracked < self.p.reanchor_below or abs(np.log(scale)) > 0.1 or abs(angle) > 10
        return far and self._clear

    def _look(self, bgr: np.ndarray, expected: np.ndarray) -> Detection | None:
        """MTCNN's look where the track expects the face: a crop of about three face sizes
        around it (the face's size: its eye distance or eye-to-mouth distance, the larger: a
        turned face has close eyes), scaled so that size is LOOK_SIZE pixels (MTCNN's cost
        grows with the picture's area: 187 ms over a whole 640x480 frame here, 68 on the crop). Found nothing
        there, it looks at the whole frame before it says no. Landmarks in frame pixels."""
        eyes = (expected[0] + expected[1]) / 2
        size = max(float(np.linalg.norm(expected[1] - expected[0])),
                   float(np.linalg.norm((expected[3] + expected[4]) / 2 - eyes)), 1.0)
        centre = expected.mean(0)
        half = 1.8 * size
        x0, y0 = int(max(centre[0] - half, 0)), int(max(centre[1] - half, 0))
        x1, y1 = int(min(centre[0] + half, bgr.shape[1])), int(min(centre[1] + half, bgr.shape[0]))
        scale = min(1.0, LOOK_SIZE / size)
        found = None
        if x1 - x0 >= 24 and y1 - y0 >= 24:
            crop = np.ascontiguousarray(bgr[y0:y1, x0:x1])
            if scale < 1.0:
                crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            found = self.detect(crop, 1)
        if found is None:
            return self.detect(bgr, 1)
        offset = np.array([x0, y0], float)
        marks = (np.asarray(found.landmarks, float) + 0.5) / scale - 0.5 + offset
        box = np.asarray(found.box, float) / scale + np.r_[offset, 0, 0]
        return Detection(box, marks, found.confidence, found.detector)

    def _check(self, grey: np.ndarray, bgr: np.ndarray, expected: np.ndarray) -> bool:
        """MTCNN's look at the frame; False when the track must restart (or stop)."""
        found = self._look(bgr, expected)
        if found is None:
            self._misses += 1
            if self._misses >= 2:
                self._lose("no_face")
                return False
            return True
        self._misses = 0
        self._flag = self._unusable(found)
        error = self._off_track(found, expected)
        if error > self.p.restart_at:  # the tracker followed something else: start again from MTCNN
            self.log.append(f"frame {self.index - 1}: track restarted (landmarks {error:.2f} eye distances off)")
            self._restart(grey, bgr, found)
            return False
        return True

    def _off_track(self, found: Detection, expected: np.ndarray) -> float:
        """How far MTCNN's landmarks are from where the track puts them, in eye distances."""
        iod = float(np.linalg.norm(expected[1] - expected[0]))
        return float(np.mean(np.linalg.norm(np.asarray(found.landmarks) - expected, axis=1))) / iod

    def _restart(self, grey: np.ndarray, bgr: np.ndarray, found: Detection) -> Detection:
        """A new segment, anchored on a whole-frame detection with every view (the cropped look
        that found the face is coarser); that detection."""
        found = self.detect(bgr, self.align.views) or found
        self.segment += 1
        self._anchor(grey, similarity_transform(found.landmarks, self.align), found.landmarks)
        return found

    def _seen_again(self, grey: np.ndarray, bgr: np.ndarray, expected: np.ndarray, tracked: float) -> bool:
        """While covered, MTCNN's look: a face where the track expects it starts a new anchor
        (and segment) there. The anchor's look may be stale (the head turned while it was
        covered), and nothing else would ever renew it. A face elsewhere starts one too when
        the track itself has failed (few rigid points fit its motion): then the track, not
        the view, is what is wrong."""
        found = self._look(bgr, expected)
        if found is None or (self._off_track(found, expected) > self.p.restart_at
                             and tracked >= self.p.reanchor_below):
            return False
        self._covered = False
        self._flag = self._unusable(self._restart(grey, bgr, found))
        return self._ref is not None

    def _lose(self, reason: str) -> None:
        self.reason = reason
        self._ref = self._ref_points = self._points = None
        self._next_try = self.index + self.frames_of(self.p.retry_s) - 1
        self._flag = ""

    def _where_lost(self, shape: tuple[int, ...], colour: Callable[[], np.ndarray] | None) -> str:
        """Why the face was lost. Lost all at once from a clear view (a cut, the camera covered),
        MTCNN decides between no face and a covered one; lost after being covered, it is covered."""
        if self._ref_matrix is not None and not self._inside(self._ref_matrix, shape):
            return "out_of_frame"
        if colour is not None and self.detect(colour(), 1) is None:
            return "no_face"
        return "occluded"

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


GRADUAL = ("occluded", "out_of_frame", "turned")


def pad_unusable(reasons: list[str], pad: int) -> list[str]:
    """Frames within `pad` of an unusable one are unusable too, where that comes on gradually
    (a hand entering the picture, the face turning or moving away: the frames just before the
    tracker gives up are already spoiled). A face that is simply gone (a cut) spoils nothing
    around it."""
    out = list(reasons)
    n = len(reasons)
    for i, reason in enumerate(reasons):
        if reason in GRADUAL:
            for j in range(max(0, i - pad), min(n, i + pad + 1)):
                if not out[j]:
                    out[j] = reason
    return out

