"""The faces the synthetic datasets are made of: real photographs that ship inside installed
packages (scikit-image's astronaut and cameraman, matplotlib's Grace Hopper), placed in a
640x480 frame as a subject, and the facial actions drawn on them as smooth patches of
displacement around the landmarks: the action units coders code, drawn for an emotion."""

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

# The action units (AUs) these faces can move, and the emotions coders attach to them. Each
# emotion has core AUs (one is always there) and AUs that come with it some of the time, as
# in the coding sheets (happiness AU12 with or without AU6; disgust AU9 or AU10, often with
# AU4; surprise AU1+2, sometimes AU5 or AU26; repression AU14, AU15 or AU17; sadness AU15 or
# AU1+4; anger AU4 or AU23 with AU5 and AU7 now and then). AUs are shared between emotions
# (AU4 in disgust, sadness and anger; AU15 in repression and sadness), so the motion says
# the emotion only as far as the AUs do. "others" is CASME II's class for the rest.
EMOTIONS: dict[str, tuple[tuple[str, ...], dict[str, float]]] = {
    "happiness": (("12",), {"6": 0.5}),
    "disgust": (("9", "10"), {"9": 0.3, "10": 0.3, "4": 0.6}),
    "surprise": (("1+2", "1+2", "2"), {"5": 0.3, "26": 0.3}),
    "repression": (("14", "15", "17"), {"14": 0.3, "15": 0.3, "17": 0.3}),
    "sadness": (("15", "1+4"), {"1": 0.4, "4": 0.4, "15": 0.5}),
    "anger": (("4", "23"), {"4": 0.4, "5": 0.4, "7": 0.5, "23": 0.4}),
    "others": (("4", "7"), {"4": 0.2, "7": 0.2}),
}
# How often each emotion is drawn: negative emotions first, as in CASME II and SAMM.
EMOTION_SHARE = {"happiness": 0.2, "surprise": 0.15, "disgust": 0.2, "repression": 0.1, "sadness": 0.05,
                 "anger": 0.1, "others": 0.2}


def sample_emotion(rng: np.random.Generator) -> str:
    return str(rng.choice(list(EMOTION_SHARE), p=list(EMOTION_SHARE.values())))


def sample_action(emotion: str, rng: np.random.Generator) -> str:
    """The AUs of one expression of `emotion`, as coded ('6+12'): a core AU and the extras drawn."""
    core, extras = EMOTIONS[emotion]
    aus = set(str(rng.choice(core)).split("+"))
    for au, share in extras.items():
        if rng.random() < share:
            aus.add(au)
    return "+".join(sorted(aus, key=int))


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
    """The displacement patches of the AUs in `action` ('1+2+5'), scaled to the face's
    inter-ocular distance: where each moves (relative to the landmarks), which way, how wide."""
    iod = float(np.linalg.norm(marks["right_eye"] - marks["left_eye"]))
    mid_x = (marks["left_eye"][0] + marks["right_eye"][0]) / 2
    mouth = (marks["mouth_left"] + marks["mouth_right"]) / 2
    bumps = []
    for s in ("left", "right"):
        if side == "L" and s == "right" or side == "R" and s == "left":
            continue
        eye, corner = marks[f"{s}_eye"], marks[f"mouth_{s}"]
        out = np.sign(eye[0] - mid_x) or 1.0  # +1 on the image-right side
        place = {
            "1": (eye + [-out * 0.12 * iod, -0.36 * iod], [0, -1], (0.12, 0.1)),  # inner brow raiser
            "2": (eye + [out * 0.18 * iod, -0.33 * iod], [0, -1], (0.12, 0.1)),  # outer brow raiser
            "4": (eye + [-out * 0.2 * iod, -0.3 * iod], [-out * 0.5, 0.87], (0.15, 0.1)),  # brow lowerer
            "5": (eye + [0, -0.1 * iod], [0, -1], (0.14, 0.05)),  # upper lid raiser
            "6": (eye + [0, 0.45 * iod], [0, -1], (0.15, 0.1)),  # cheek raiser
            "7": (eye + [0, 0.12 * iod], [0, -1], (0.16, 0.06)),  # lid tightener
            "9": (marks["nose"] + [out * 0.1 * iod, -0.15 * iod], [-out * 0.3, -0.95], (0.07, 0.1)),  # nose wrinkler
            "10": ((marks["nose"] + corner) / 2 + [0, -0.05 * iod], [0, -1], (0.12, 0.08)),  # upper lip raiser
            "12": (corner, [out * 0.6, -0.8], (0.13, 0.1)),  # lip corner puller
            "14": (corner, [out, 0], (0.1, 0.08)),  # dimpler
            "15": (corner, [out * 0.2, 0.98], (0.12, 0.1)),  # lip corner depressor
            "17": (mouth + [out * 0.08 * iod, 0.35 * iod], [0, -1], (0.12, 0.1)),  # chin raiser
            "23": (corner + [-out * 0.08 * iod, 0], [-out, 0], (0.08, 0.06)),  # lip tightener
            "26": (mouth + [out * 0.08 * iod, 0.3 * iod], [0, 1], (0.15, 0.12)),  # jaw drop
        }
        for au in action.split("+"):
            centre, direction, (sx, sy) = place[au]
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
