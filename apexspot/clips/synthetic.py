"""A synthetic stand-in for CASME II, built from real face photographs.

Each subject is a real photograph (scikit-image's astronaut and cameraman, matplotlib's
Grace Hopper), placed in a 640x480 frame with the face about 250 px wide and varied in
side, size, shape and tone. A clip is one micro-expression of an emotion: a smooth local
deformation of 1-3 px around the landmarks of the action units coders code for that emotion
(not every AU every time: apexspot.core.photos.EMOTIONS) that rises from onset to apex and
falls to offset with an asymmetric profile. Around it
are the things that fool naive spotters on real data: eye blinks (large local motion),
slow head drift and rotation, brightness flicker, sensor noise and JPEG compression.

Window lengths and apex positions follow the real CASME II / SAMM timing (read from their
coding sheets: docs/datasets.md), so the centre-of-window baseline is about as good here as
there. The dataset is written in
the CASME II layout (`CASME2_RAW_selected/subNN/<clip>/imgN.jpg` and a coding sheet) and
read back by the real CASME II reader.
"""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
import openpyxl
import pandas as pd

from apexspot.core.photos import (FRAME_H, FRAME_W, Subject, action_bumps, blink_bumps, bounds, displacement,
                                  sample_action, sample_emotion, sample_subject, subject_canvas)
from apexspot.core.files import reproducible_zip
from apexspot.core.workers import map_clips

FPS = 200
ROOT = "data/synthetic"  # where the ingest stage writes it (its DVC output)
FRAMES_DIR = "CASME2_RAW_selected"
SHEET = "CASME2-coding-synthetic.xlsx"
TRUTH = "clips.csv"
SHEET_HEADER = ["Subject", "Filename", None, "OnsetFrame", "ApexFrame", "OffsetFrame", None,
                "Action Units", "Estimated Emotion"]

# Timing of real clips, from the coding sheets' usable rows: offset-onset 23..140 frames
# (CASME II mean 66, median 61; SAMM mean 73, median 77); apex at 0.51 +- 0.17 of the window
# (CASME II sheet: 5th-95th percentile 0.25-0.77).
LENGTH_MEDIAN, LENGTH_SIGMA, LENGTH_RANGE = 64.0, 0.33, (23, 140)
APEX_BETA = 4.0  # Beta(4, 4): mean 0.5, sd 0.17

@dataclass
class ClipSpec:
    """Everything needed to render one clip; also written to clips.csv as ground truth."""

    subject: int
    filename: str
    onset: int
    apex: int
    offset: int
    emotion: str
    action: str  # its action units ('6+12'), drawn for the emotion (apexspot.core.photos.EMOTIONS)
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


# ---------------------------------------------------------------- sampling


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
    emotion = sample_emotion(rng)
    return ClipSpec(
        subject=subject,
        filename=f"EP{int(rng.integers(1, 20)):02d}_{number:02d}",
        onset=onset, apex=apex, offset=offset,
        emotion=emotion,
        action=sample_action(emotion, rng),
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
    x0, x1, y0, y1 = bounds(expr, 0)
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
    region = bounds(expr + blink, 12)
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


def generate(root: str | Path, subjects: int, clips_per_subject: int, seed: int, jpeg_quality: int,
             workers: int = 0, progress: bool = True) -> list[ClipSpec]:
    """Write the dataset under `root` (frames, coding sheet, ground-truth table).

    `root` must be empty: the ingest stage passes its own output folder (emptied by DVC and
    by the stage), `apexspot synthetic` refuses a folder that holds anything.
    """
    root = Path(root)
    people, clips = sample_dataset(subjects, clips_per_subject, seed)
    by_index = {p.index: p for p in people}
    jobs = [(root / FRAMES_DIR / f"sub{c.subject:02d}" / c.filename, by_index[c.subject], c, jpeg_quality)
            for c in clips]
    for _ in map_clips(_write_clip, jobs, workers=workers, desc="synthetic clips", show_progress=progress):
        pass
    write_sheet(root / SHEET, clips)
    truth = pd.DataFrame([asdict(c) | {"action_units": c.action_units} for c in clips])
    truth.to_csv(root / TRUTH, index=False)
    return clips
