"""A synthetic stand-in for CASME II, built from real face photographs.

Each subject is a real photograph (scikit-image's astronaut and cameraman, matplotlib's
Grace Hopper), placed in a 640x480 frame with the face about 250 px wide and varied in
side, size, shape and tone. A clip is one micro-expression: a smooth local deformation
of 1-3 px around a facial action's landmarks (brow raise, lip-corner pull, lid tighten...)
that rises from onset to apex and falls to offset with an asymmetric profile. Around it
are the things that fool naive spotters on real data: eye blinks (large local motion),
slow head drift and rotation, brightness flicker, sensor noise and JPEG compression.

Window lengths and apex positions follow the real CASME II / SAMM timing (DESIGN.md), so
the centre-of-window baseline is about as good here as there. The dataset is written in
the CASME II layout (`CASME2_RAW_selected/subNN/<clip>/imgN.jpg` and a coding sheet) and
read back by the real CASME II reader.
"""

from __future__ import annotations

import io
import os
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import openpyxl
import pandas as pd

from apexspot.files import reproducible_zip
from apexspot.workers import map_clips

FRAME_W, FRAME_H = 640, 480
FPS = 200
FRAMES_DIR = "CASME2_RAW_selected"
SHEET = "CASME2-coding-synthetic.xlsx"
TRUTH = "clips.csv"
SHEET_HEADER = ["Subject", "Filename", None, "OnsetFrame", "ApexFrame", "OffsetFrame", None,
                "Action Units", "Estimated Emotion"]

# Timing of real clips (DESIGN.md): offset-onset 23..140 frames, median ~61-77; apex at
# 0.51 +- 0.17 of the window (CASME II sheet: 5th-95th percentile 0.25-0.77).
LENGTH_MEDIAN, LENGTH_SIGMA, LENGTH_RANGE = 64.0, 0.33, (23, 140)
APEX_BETA = 4.0  # Beta(4, 4): mean 0.5, sd 0.17

Point = tuple[float, float]


@dataclass(frozen=True)
class Photo:
    """A real face photograph that ships inside an installed package, with MTCNN's landmarks."""

    name: str
    box: tuple[int, int, int, int]  # x, y, w, h
    left_eye: Point  # image-left, as MTCNN names them
    right_eye: Point
    nose: Point
    mouth_left: Point
    mouth_right: Point


PHOTOS = (
    Photo("astronaut", (182, 64, 83, 107), (204, 100), (245, 102), (224, 126), (202, 139), (244, 140)),
    Photo("grace_hopper", (178, 110, 173, 220), (220, 190), (308, 186), (268, 237), (232, 277), (304, 273)),
    Photo("cameraman", (197, 116, 58, 81), (234, 147), (251, 149), (250, 167), (228, 179), (243, 180)),
)

# Facial actions: where the motion is (relative to landmarks, in inter-ocular distances),
# which way it goes, and the emotion the CASME II coders would most often attach.
ACTIONS = {
    "1+2": "surprise",    # inner and outer brow raiser
    "4": "others",        # brow lowerer
    "7": "others",        # lid tightener
    "10": "disgust",      # upper lip raiser
    "12": "happiness",    # lip corner puller
    "14": "repression",   # dimpler
    "15": "sadness",      # lip corner depressor
}


@dataclass
class Subject:
    index: int
    photo: str
    mirror: bool
    face_width: float
    aspect: float
    gamma: float
    tint: tuple[float, float, float]
    centre: Point


@dataclass
class ClipSpec:
    """Everything needed to render one clip; also written to clips.csv as ground truth."""

    subject: int
    filename: str
    onset: int
    apex: int
    offset: int
    action: str
    side: str  # both | L | R (image-left / image-right)
    amplitude: float  # px of the largest displacement at apex
    rise_power: float
    fall_power: float
    blink_start: int  # frame number; -1 when the clip has no blink
    blink_length: int
    blink_depth: float  # px of upper-lid travel at full closure
    drift_x: float  # px/s
    drift_y: float
    drift_rot: float  # degrees/s
    sway: float  # px
    sway_period: float  # frames
    sway_phase: float
    flicker: float  # relative gain amplitude
    flicker_period: float  # frames
    noise: float  # grey levels, sd
    seed: int

    @property
    def action_units(self) -> str:
        return self.action if self.side == "both" else "+".join(self.side + a for a in self.action.split("+"))

    @property
    def emotion(self) -> str:
        return ACTIONS[self.action]


# ---------------------------------------------------------------- sampling


def identity(subject_id: str) -> str:
    """The photograph a synthetic subject id ('synthetic-07') is made from: its true identity.

    Subjects made from one photograph are one face (mirrored and jittered), so the folds
    group them: the face a model is tested on is never one it was trained on.
    """
    index = int(subject_id.rsplit("-", 1)[-1])
    return f"synthetic-{PHOTOS[(index - 1) % len(PHOTOS)].name}"


def sample_subject(index: int, rng: np.random.Generator) -> Subject:
    """Subject `index` (1-based): photos cycle, mirrored every other cycle, then jittered."""
    photo = PHOTOS[(index - 1) % len(PHOTOS)]
    return Subject(
        index=index,
        photo=photo.name,
        mirror=((index - 1) // len(PHOTOS)) % 2 == 1,
        face_width=float(rng.uniform(230, 270)),
        aspect=float(rng.uniform(0.94, 1.06)),
        gamma=float(rng.uniform(0.85, 1.15)),
        tint=tuple(float(x) for x in rng.uniform(0.9, 1.1, size=3)),
        centre=(float(FRAME_W / 2 + rng.uniform(-40, 40)), float(FRAME_H / 2 + rng.uniform(-25, 25))),
    )


def sample_timing(rng: np.random.Generator) -> tuple[int, int, int]:
    """(onset, apex, offset) with the real datasets' window lengths and apex spread."""
    length = int(np.clip(round(rng.lognormal(np.log(LENGTH_MEDIAN), LENGTH_SIGMA)), *LENGTH_RANGE))
    to_apex = int(np.clip(round(rng.beta(APEX_BETA, APEX_BETA) * length), 1, length - 1))
    onset = int(rng.integers(10, 300))
    return onset, onset + to_apex, onset + length


def sample_clip(subject: int, number: int, rng: np.random.Generator) -> ClipSpec:
    onset, apex, offset = sample_timing(rng)
    length = offset - onset
    has_blink = rng.random() < 0.6
    blink_length = int(rng.integers(20, 41))
    return ClipSpec(
        subject=subject,
        filename=f"EP{int(rng.integers(1, 20)):02d}_{number:02d}",
        onset=onset, apex=apex, offset=offset,
        action=str(rng.choice(list(ACTIONS))),
        side=str(rng.choice(["both", "both", "L", "R"])),
        amplitude=float(rng.uniform(1.0, 3.0)),
        rise_power=float(rng.uniform(0.6, 1.6)),
        fall_power=float(rng.uniform(0.6, 2.5)),
        blink_start=int(rng.integers(onset - blink_length // 2, offset - 5)) if has_blink else -1,
        blink_length=blink_length,
        blink_depth=float(rng.uniform(3.0, 6.0)),
        drift_x=float(rng.uniform(-8, 8)),
        drift_y=float(rng.uniform(-6, 6)),
        drift_rot=float(rng.uniform(-1.5, 1.5)),
        sway=float(rng.uniform(0, 1.5)),
        sway_period=float(rng.uniform(0.4, 1.5) * length),
        sway_phase=float(rng.uniform(0, 2 * np.pi)),
        flicker=float(rng.uniform(0.005, 0.02)),
        flicker_period=float(rng.uniform(2.5, 12)),
        noise=float(rng.uniform(1.0, 3.0)),
        seed=int(rng.integers(2**31)),
    )


def sample_dataset(subjects: int, clips_per_subject: int, seed: int) -> tuple[list[Subject], list[ClipSpec]]:
    """All subjects and clip specs for a seed; independent of how rendering is scheduled."""
    if subjects < 1 or clips_per_subject < 1:
        raise ValueError("synthetic dataset needs at least one subject and one clip per subject")
    root = np.random.SeedSequence(seed)
    subject_seqs = root.spawn(subjects)
    people, clips = [], []
    for i, seq in enumerate(subject_seqs, start=1):
        rng = np.random.default_rng(seq)
        people.append(sample_subject(i, rng))
        names: set[str] = set()
        for n in range(1, clips_per_subject + 1):
            spec = sample_clip(i, n, rng)
            while spec.filename in names:
                spec.filename = f"EP{int(rng.integers(1, 20)):02d}_{n:02d}"
            names.add(spec.filename)
            clips.append(spec)
    return people, clips


# ---------------------------------------------------------------- profiles


def expression_profile(spec: ClipSpec, frames: np.ndarray) -> np.ndarray:
    """Intensity 0 at onset, 1 at apex, 0 at offset; rise and fall shaped differently."""
    frames = np.asarray(frames, dtype=np.float64)
    rise = np.clip((frames - spec.onset) / max(spec.apex - spec.onset, 1), 0, 1)
    fall = np.clip((spec.offset - frames) / max(spec.offset - spec.apex, 1), 0, 1)
    ease = lambda u, p: (0.5 - 0.5 * np.cos(np.pi * u)) ** p  # noqa: E731  smooth at both ends
    out = np.where(frames <= spec.apex, ease(rise, spec.rise_power), ease(fall, spec.fall_power))
    return np.where((frames < spec.onset) | (frames > spec.offset), 0.0, out)


def blink_profile(spec: ClipSpec, frames: np.ndarray) -> np.ndarray:
    """Eyelid closure 0..1: a fast close (a third of the blink) and a slower reopening."""
    if spec.blink_start < 0:
        return np.zeros(len(frames))
    u = (np.asarray(frames, dtype=np.float64) - spec.blink_start) / spec.blink_length
    close = np.clip(u / 0.33, 0, 1)
    reopen = np.clip((1 - u) / 0.67, 0, 1)
    shape = np.where(u < 0.33, np.sin(close * np.pi / 2) ** 2, np.sin(reopen * np.pi / 2) ** 2)
    return np.where((u < 0) | (u > 1), 0.0, shape)


# ---------------------------------------------------------------- rendering


@lru_cache(maxsize=None)
def load_photo(name: str) -> np.ndarray:
    """The photograph as BGR uint8, read from the package that ships it (no download)."""
    if name == "grace_hopper":
        import matplotlib

        image = cv2.imread(os.path.join(matplotlib.get_data_path(), "sample_data", "grace_hopper.jpg"))
    else:
        import skimage.data

        image = getattr(skimage.data, {"astronaut": "astronaut", "cameraman": "camera"}[name])()
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR if image.ndim == 3 else cv2.COLOR_GRAY2BGR)
    if image is None:
        raise FileNotFoundError(f"face photograph {name!r} is not where its package should ship it")
    return image


def subject_canvas(subject: Subject) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The subject's still frame (float32 BGR, 480x640) and its landmarks in frame pixels."""
    photo = next(p for p in PHOTOS if p.name == subject.photo)
    x, y, w, h = photo.box
    cx, cy = x + w / 2, y + h / 2
    s = subject.face_width / w
    sx, sy = (-s if subject.mirror else s), s * subject.aspect
    matrix = np.array([[sx, 0, subject.centre[0] - sx * cx], [0, sy, subject.centre[1] - sy * cy]])
    canvas = cv2.warpAffine(load_photo(subject.photo), matrix, (FRAME_W, FRAME_H),
                            flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT101).astype(np.float32)
    canvas = 255.0 * (canvas / 255.0) ** subject.gamma * np.array(subject.tint, dtype=np.float32)
    marks = {k: matrix[:, :2] @ np.array(getattr(photo, k), float) + matrix[:, 2]
             for k in ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")}
    if subject.mirror:  # keep "left" meaning image-left
        marks["left_eye"], marks["right_eye"] = marks["right_eye"], marks["left_eye"]
        marks["mouth_left"], marks["mouth_right"] = marks["mouth_right"], marks["mouth_left"]
    return np.clip(canvas, 0, 255), marks


@dataclass
class Bump:
    """A Gaussian patch of displacement: centre, direction (unit, px at weight 1), spread."""

    centre: np.ndarray
    direction: np.ndarray
    sigma: tuple[float, float]


def action_bumps(action: str, side: str, marks: dict[str, np.ndarray]) -> list[Bump]:
    """The displacement patches of one facial action, scaled to the face's inter-ocular distance."""
    iod = float(np.linalg.norm(marks["right_eye"] - marks["left_eye"]))
    mid_x = (marks["left_eye"][0] + marks["right_eye"][0]) / 2
    bumps = []
    for s in ("left", "right"):
        if side == "L" and s == "right" or side == "R" and s == "left":
            continue
        eye, corner = marks[f"{s}_eye"], marks[f"mouth_{s}"]
        out = np.sign(eye[0] - mid_x) or 1.0  # +1 on the image-right side
        place = {
            "1+2": (eye + [0, -0.38 * iod], [0, -1], (0.24, 0.12)),
            "4": (eye + [-out * 0.2 * iod, -0.3 * iod], [-out * 0.5, 0.87], (0.15, 0.1)),
            "7": (eye + [0, 0.12 * iod], [0, -1], (0.16, 0.06)),
            "10": ((marks["nose"] + corner) / 2 + [0, -0.05 * iod], [0, -1], (0.12, 0.08)),
            "12": (corner, [out * 0.6, -0.8], (0.13, 0.1)),
            "14": (corner, [out, 0], (0.1, 0.08)),
            "15": (corner, [out * 0.2, 0.98], (0.12, 0.1)),
        }[action]
        centre, direction, (sx, sy) = place
        d = np.asarray(direction, float)
        bumps.append(Bump(np.asarray(centre, float), d / np.linalg.norm(d), (sx * iod, sy * iod)))
    return bumps


def blink_bumps(marks: dict[str, np.ndarray]) -> list[Bump]:
    """Upper lids sliding down over both eyes."""
    iod = float(np.linalg.norm(marks["right_eye"] - marks["left_eye"]))
    return [Bump(marks[k] + [0, -0.08 * iod], np.array([0.0, 1.0]), (0.17 * iod, 0.07 * iod))
            for k in ("left_eye", "right_eye")]


def displacement(bumps: list[Bump], x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Displacement at points (x, y), scaled so its largest magnitude is 1 px."""
    dx = np.zeros_like(x)
    dy = np.zeros_like(y)
    for b in bumps:
        w = np.exp(-0.5 * (((x - b.centre[0]) / b.sigma[0]) ** 2 + ((y - b.centre[1]) / b.sigma[1]) ** 2))
        dx += b.direction[0] * w
        dy += b.direction[1] * w
    return dx, dy


def _bounds(bumps: list[Bump], margin: float) -> tuple[int, int, int, int]:
    xs = [b.centre[0] + sgn * (4 * b.sigma[0] + margin) for b in bumps for sgn in (-1, 1)]
    ys = [b.centre[1] + sgn * (4 * b.sigma[1] + margin) for b in bumps for sgn in (-1, 1)]
    return (max(int(min(xs)), 0), min(int(max(xs)) + 1, FRAME_W),
            max(int(min(ys)), 0), min(int(max(ys)) + 1, FRAME_H))


def head_pose(spec: ClipSpec, frame: int) -> tuple[float, float, float]:
    """(dx px, dy px, rotation degrees) of the head at `frame`: slow drift plus a sway."""
    t = (frame - spec.onset) / FPS
    sway = spec.sway * np.sin(2 * np.pi * (frame - spec.onset) / spec.sway_period + spec.sway_phase)
    return spec.drift_x * t + sway, spec.drift_y * t + 0.5 * sway, spec.drift_rot * t


def render_clip(subject: Subject, spec: ClipSpec, distractors: bool = True) -> list[np.ndarray]:
    """The clip's frames onset..offset as BGR uint8 images (before JPEG compression).

    `distractors=False` leaves only the expression, which is how tests find its peak.
    """
    canvas, marks = subject_canvas(subject)
    expr = action_bumps(spec.action, spec.side, marks)
    blink = blink_bumps(marks)
    # The maximum of the summed field is not always 1 where patches overlap; normalise it.
    x0, x1, y0, y1 = _bounds(expr, 0)
    gx, gy = np.meshgrid(np.arange(x0, x1, dtype=np.float32), np.arange(y0, y1, dtype=np.float32))
    peak = float(np.max(np.hypot(*displacement(expr, gx, gy))))
    frames = np.arange(spec.onset, spec.offset + 1)
    intensity = expression_profile(spec, frames) * spec.amplitude / peak
    closure = blink_profile(spec, frames) if distractors else np.zeros(len(frames))
    blurred = cv2.GaussianBlur(canvas, (0, 0), 4)
    lid_mask = np.zeros(canvas.shape[:2], np.float32)
    for b in blink:
        cv2.ellipse(lid_mask, (int(b.centre[0]), int(b.centre[1] + b.sigma[1])),
                    (int(1.6 * b.sigma[0]), int(1.8 * b.sigma[1])), 0, 0, 360, 1.0, -1)
    lid_mask = cv2.GaussianBlur(lid_mask, (0, 0), 3)[..., None]
    centre = (marks["left_eye"] + marks["right_eye"]) / 2
    yy, xx = np.mgrid[0:FRAME_H, 0:FRAME_W].astype(np.float32)
    region = _bounds(expr + blink, 12)
    rng = np.random.default_rng(spec.seed)
    out = []
    for i, frame in enumerate(frames):
        dx, dy, rot = head_pose(spec, frame) if distractors else (0.0, 0.0, 0.0)
        # Output pixel q shows the still face at p = R^-1 (q - c - d) + c, then the expression warp.
        inverse = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), -rot, 1.0)
        inverse[:, 2] -= inverse[:, :2] @ np.array([dx, dy])
        mx = (inverse[0, 0] * xx + inverse[0, 1] * yy + inverse[0, 2]).astype(np.float32)
        my = (inverse[1, 0] * xx + inverse[1, 1] * yy + inverse[1, 2]).astype(np.float32)
        rx0, rx1, ry0, ry1 = region
        px, py = mx[ry0:ry1, rx0:rx1], my[ry0:ry1, rx0:rx1]
        ex, ey = displacement(expr, px, py)
        bx, by = displacement(blink, px, py)
        lid = spec.blink_depth * closure[i]
        px -= intensity[i] * ex + lid * bx
        py -= intensity[i] * ey + lid * by
        source = canvas if closure[i] == 0 else canvas + (0.8 * closure[i] * lid_mask) * (blurred - canvas)
        image = cv2.remap(source, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101)
        if distractors:
            gain = 1 + spec.flicker * np.sin(2 * np.pi * i / spec.flicker_period)
            image = image * np.float32(gain) + rng.standard_normal(image.shape, dtype=np.float32) * spec.noise
        out.append(np.clip(image + 0.5, 0, 255).astype(np.uint8))
    return out


# ---------------------------------------------------------------- writing


def _write_clip(job: tuple[Path, Subject, ClipSpec, int]) -> None:
    clip_dir, subject, spec, quality = job
    clip_dir.mkdir(parents=True, exist_ok=True)
    for frame, image in zip(range(spec.onset, spec.offset + 1), render_clip(subject, spec)):
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:
            raise RuntimeError(f"JPEG encoding failed for {clip_dir}/img{frame}.jpg")
        (clip_dir / f"img{frame}.jpg").write_bytes(data.tobytes())


def write_sheet(path: Path, clips: list[ClipSpec]) -> None:
    """A coding sheet in the CASME II layout (header on row 1, two blank columns)."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Sheet1"
    sheet.append(SHEET_HEADER)
    for c in clips:
        sheet.append([f"{c.subject:02d}", c.filename, None, c.onset, c.apex, c.offset, None,
                      c.action_units, c.emotion])
    buffer = io.BytesIO()
    book.save(buffer)
    stamp = rb"\g<1>2000-01-01T00:00:00Z"
    path.write_bytes(reproducible_zip(buffer.getvalue(), {
        "docProps/core.xml": [(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", stamp)]}))


def generate(root: str | Path, subjects: int, clips_per_subject: int, seed: int,
             jpeg_quality: int = 90, workers: int = 0, progress: bool = True) -> list[ClipSpec]:
    """Write the dataset under `root` (frames, coding sheet, ground-truth table).

    `root` must be a fresh folder; the ingest stage passes a temporary one and renames it.
    """
    root = Path(root)
    people, clips = sample_dataset(subjects, clips_per_subject, seed)
    by_index = {p.index: p for p in people}
    jobs = [(root / FRAMES_DIR / f"sub{c.subject:02d}" / c.filename, by_index[c.subject], c, jpeg_quality)
            for c in clips]
    for _ in map_clips(_write_clip, jobs, workers=workers, desc="synthetic clips", show_progress=progress):
        pass
    write_sheet(root / SHEET, clips)
    truth = pd.DataFrame([asdict(c) | {"action_units": c.action_units, "emotion": c.emotion} for c in clips])
    truth.to_csv(root / TRUTH, index=False)
    return clips
