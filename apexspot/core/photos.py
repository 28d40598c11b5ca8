"""The faces the synthetic datasets are made of: real photographs that ship inside installed
packages (scikit-image's astronaut and cameraman, matplotlib's Grace Hopper), placed in a
640x480 frame as a subject, and the facial actions drawn on them as smooth patches of
displacement around the landmarks (brow raise, lip-corner pull, lid tighten...)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

FRAME_W, FRAME_H = 640, 480

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
    """Displacement at points (x, y): the bumps' directions weighted by their Gaussians (the
    caller scales it to the clip's amplitude)."""
    dx = np.zeros_like(x)
    dy = np.zeros_like(y)
    for b in bumps:
        w = np.exp(-0.5 * (((x - b.centre[0]) / b.sigma[0]) ** 2 + ((y - b.centre[1]) / b.sigma[1]) ** 2))
        dx += b.direction[0] * w
        dy += b.direction[1] * w
    return dx, dy


def bounds(bumps: list[Bump], margin: float) -> tuple[int, int, int, int]:
    xs = [b.centre[0] + sgn * (4 * b.sigma[0] + margin) for b in bumps for sgn in (-1, 1)]
    ys = [b.centre[1] + sgn * (4 * b.sigma[1] + margin) for b in bumps for sgn in (-1, 1)]
    return (max(int(min(xs)), 0), min(int(max(xs)) + 1, FRAME_W),
            max(int(min(ys)), 0), min(int(max(ys)) + 1, FRAME_H))


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
