"""Built-in long recordings, so the long-recording pipeline runs without a licence.

One recording per subject, at 30 fps, made from the same real face photographs as the
short-clip set (apexspot.core.photos), written in the CAS(ME)^2 layout
(`rawpic/s15/15_0101disgustingteeth/img001.jpg` and a `CAS(ME)^2code_final.xlsx` workbook
with its two naming-rule sheets) and read back by the CAS(ME)^2 reader.

As hard as real recordings, not as easy as a spotter would like (docs/recordings.md):

Coded: micro-expressions (5-15 frames, the action units of an emotion drawn as smooth
displacement around the landmarks: apexspot.core.photos.EMOTIONS) whose largest displacement is 0.4-1.5 px of the camera's picture, and
macro-expressions (0.5-2.5 s, rising to a plateau) from subtle to as strong as real ones
(`STRONG`: a laugh with the mouth open, the cheeks raised and the eyes narrowing, a smile
showing teeth, a frown, crying with the eyes shut, surprise with the jaw dropped, disgust),
largest displacement 0.03-0.3 eye distances (4-38 px here; a real broad smile lifts the mouth
corners by about 0.3), the eyes closing and the mouth opening growing with it. Micro-expressions
of real CAS(ME)^2 and SAMM-LV faces move parts of the face by a fraction of a pixel to about
2 px; these faces have about 125 px between the eyes, more than CAS(ME)^2's.

Not coded, because real long recordings are full of them: small movements of every region
that coders leave alone (`UNCODED`: lip presses, swallowing, nostril flares, gaze shifts,
one-sided tics; as large as a micro-expression and as long as either type), blinks every 1-4 s
(as short as a micro-expression), speech-like mouth movement, head sway with a tremor, a head
turn and back, a nod, a lighting change, a hand passing over the face, and a camera pan that
takes the face out of the picture for a while; sensor noise and JPEG compression on top.
Expressions never overlap the hand, the pan or an uncoded movement (the truth stays
unambiguous); blinks, speech and head motion overlap anything.

One module, longer than the others: the recording's events, their motion, the rendering
and the coding sheet are one model of a recording; the face photographs and their action
bumps it shares with the clips live in apexspot.core.photos.
"""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np
import openpyxl
import pandas as pd

from apexspot.core.files import reproducible_zip
from apexspot.core.photos import (Bump, FRAME_H, FRAME_W, action_bumps, sample_action, sample_emotion,
                                  blink_bumps, bounds, displacement, identity as photo_identity, sample_subject, subject_canvas)
from apexspot.core.workers import map_clips

FPS = 30.0
ROOT = "data/recordings/synthetic"  # the long-recording ingest stage's own output
FRAMES_DIR = "rawpic"
SHEET = "CAS(ME)^2code_final.xlsx"
TRUTH = "events.csv"
VIDEOS = {"0101": ("disgust1", "disgustingteeth"), "0102": ("disgust2", "eatingworms"),
          "0401": ("anger1", "girlcrashing"), "0402": ("anger2", "beatingpregnantwoman"),
          "0502": ("happy1", "funnyerrors"), "0503": ("happy2", "unnyfarting"),
          "0505": ("happy3", "funnyinnovations"), "0507": ("happy4", "climbingthewall"),
          "0508": ("happy5", "funnydunkey")}
EMOTION = {"surprise": "surprise", "happiness": "positive", "disgust": "negative", "sadness": "negative",
           "repression": "negative", "anger": "negative", "others": "others"}
CODED = ("micro", "macro")


@dataclass(frozen=True)
class Strong:
    """A macro-expression as strong as real ones: weighted facial movements, with how far the
    lids close and the mouth opens at the apex (0-1), coded with its action units."""

    emotion: str
    aus: str
    moves: tuple[tuple[str, float], ...]  # (movement, weight); movements in `strong_bumps`
    lids: float
    mouth: float


STRONG = {
    "laugh": Strong("happiness", "6+12+25+26", (("12", 1.0), ("6", 0.6), ("jaw", 0.7)), 0.5, 0.8),
    "smile": Strong("happiness", "6+12+25", (("12", 1.0), ("6", 0.4)), 0.25, 0.35),
    "frown": Strong("others", "4+7", (("4", 1.0), ("7", 0.4)), 0.3, 0.0),
    "cry": Strong("sadness", "4+15+43", (("4", 0.6), ("15", 0.8)), 1.0, 0.0),
    "surprise": Strong("surprise", "1+2+26", (("1+2", 1.0), ("jaw", 0.8)), 0.0, 0.6),
    "disgust": Strong("disgust", "4+9+10", (("10", 1.0), ("4", 0.5)), 0.2, 0.0),
}
# Movements coders leave uncoded: where (relative to the landmarks, in eye distances), which
# way, how wide. Drawn on one side or both, at a micro-expression's amplitude.
UNCODED = ("lip_press", "swallow", "nostril", "gaze", "tic")
BLOCKING = ("hand", "away")  # no face to see: nothing is coded inside


@dataclass
class Event:
    kind: str  # micro | macro | uncoded | blink | speech | hand | away | turn | nod | light
    onset: int  # frame numbers, 1-based, inclusive
    apex: int
    offset: int
    action: str = ""  # AUs ('6+12') of a micro-expression, a STRONG key of a macro-expression
    emotion: str = ""  # a micro-expression's (a macro-expression's is its STRONG entry's)
    side: str = "both"
    # px (micro-expressions, uncoded movements, blink, speech), eye distances (macro-expressions: their largest
    # displacement), degrees (turn), px (nod, away), gain (light)
    amplitude: float = 0.0


@dataclass
class RecordingSpec:
    subject: int
    code: str
    n_frames: int
    drift: tuple[float, float]  # px of slow sway amplitude (x, y)
    drift_period: float  # frames
    noise: float
    seed: int
    tremor: tuple[float, float, float, float] = (0.0, 1.0, 0.0, 1.0)  # px and Hz of two small fast head oscillations
    events: list[Event] = field(default_factory=list)

    @property
    def folder(self) -> str:
        return f"s{self.subject + 14}"

    @property
    def video_dir(self) -> str:
        return f"{self.subject + 14}_{self.code}{VIDEOS[self.code][1]}"


def smooth(u: np.ndarray) -> np.ndarray:
    return 0.5 - 0.5 * np.cos(np.pi * np.clip(u, 0, 1))


def profile(e: Event, t: np.ndarray | float) -> np.ndarray:
    """0 outside onset..offset, 1 at apex; a macro-expression holds a plateau after its apex."""
    t = np.asarray(t, float)
    rise = smooth((t - e.onset) / max(e.apex - e.onset, 1))
    if e.kind == "macro":
        hold = e.apex + 0.5 * (e.offset - e.apex)
        fall = smooth((e.offset - t) / max(e.offset - hold, 1))
        out = np.where(t <= e.apex, rise, np.where(t <= hold, 1.0, fall))
    else:
        out = np.where(t <= e.apex, rise, smooth((e.offset - t) / max(e.offset - e.apex, 1)))
    return np.where((t < e.onset) | (t > e.offset), 0.0, out)


def _free(busy: np.ndarray, start: int, stop: int) -> bool:
    return start >= 1 and stop < len(busy) and not busy[start - 1:stop + 1].any()


def sample_recording(subject: int, seconds: float, rng: np.random.Generator) -> RecordingSpec:
    """Where everything happens in one recording."""
    n = int(round(seconds * FPS))
    drift = (float(rng.uniform(4, 16)), float(rng.uniform(2, 10)))
    period = float(rng.uniform(6, 14) * FPS)
    tremor = tuple(float(rng.uniform(*r)) for r in ((0.3, 1.0), (0.5, 1.5), (0.3, 1.0), (1.5, 3.0)))
    spec = RecordingSpec(subject, list(VIDEOS)[(subject - 1) % len(VIDEOS)], n, drift, period,
                         noise=float(rng.uniform(2.0, 4.0)), seed=int(rng.integers(2**31)), tremor=tremor)
    busy = np.zeros(n + 2, bool)  # frames already taken by a coded expression or a blocking event
    busy[: int(FPS)] = True  # the first second is quiet: the face is found there

    def place(kind: str, length: int, gap: float, tries: int = 50) -> Event | None:
        for _ in range(tries):
            start = int(rng.integers(1, max(n - length, 2)))
            pad = int(gap * FPS)
            if _free(busy, start - pad, start + length + pad):
                busy[start - pad:start + length + pad + 1] = True
                return Event(kind, start, start, start + length - 1)
        return None

    if rng.random() < 0.5:
        e = place("away", int(rng.uniform(1.0, 2.0) * FPS), 0.7)
        if e:
            e.apex = (e.onset + e.offset) // 2
            e.amplitude = float(rng.choice([-1, 1]) * 700)
            spec.events.append(e)
    if rng.random() < 0.6:
        e = place("hand", int(rng.uniform(0.6, 1.2) * FPS), 0.7)
        if e:
            e.apex = (e.onset + e.offset) // 2
            e.amplitude = float(rng.choice([-1, 1]))
            spec.events.append(e)
    for kind, count in (("macro", max(1, round(seconds / 6))), ("micro", max(1, round(seconds / 5)))):
        for _ in range(count):
            length = int(rng.integers(5, 16)) if kind == "micro" else int(rng.uniform(0.5, 2.5) * FPS)
            e = place(kind, length, 0.6)
            if e is None:
                continue
            to_apex = rng.uniform(0.3, 0.6) if kind == "micro" else rng.uniform(0.15, 0.35)
            e.apex = e.onset + max(1, int(round(to_apex * (length - 1))))
            if kind == "micro":
                e.emotion = sample_emotion(rng)
                e.action = sample_action(e.emotion, rng)
                e.side = str(rng.choice(["both", "both", "L", "R"]))
                e.amplitude = float(rng.uniform(0.4, 1.5))  # px, at the largest displacement
            else:
                e.action = str(rng.choice(list(STRONG)))
                e.amplitude = float(np.exp(rng.uniform(np.log(0.03), np.log(0.3))))  # eye distances
            spec.events.append(e)
    for _ in range(max(1, round(rng.uniform(3, 6) * seconds / 30))):  # uncoded movements, 0.2-1.5 s
        e = place("uncoded", int(rng.uniform(0.2, 1.5) * FPS), 0.15, tries=500)
        if e is None:
            continue
        e.apex = e.onset + max(1, int(round(rng.uniform(0.2, 0.6) * (e.offset - e.onset))))
        e.action = str(rng.choice(UNCODED))
        e.side = "both" if e.action in ("lip_press", "swallow", "gaze") else str(rng.choice(["both", "L", "R"]))
        e.amplitude = float(rng.uniform(0.5, 2.0)) * (1 if e.action != "gaze" else float(rng.choice([-1, 1])))
        spec.events.append(e)
    t = int(rng.uniform(0.5, 2.0) * FPS)
    while t < n - 10:  # blinks every 1-4 s, 4-10 frames long, anywhere
        length = int(rng.integers(4, 11))
        spec.events.append(Event("blink", t, t + length // 3, min(t + length, n), amplitude=float(rng.uniform(3, 6))))
        t += int(rng.uniform(1, 4) * FPS)
    for _ in range(int(rng.integers(1, 3))):  # speech: mouth opening at 3-5 Hz for 1-3 s
        start = int(rng.integers(1, max(n - 3 * int(FPS), 2)))
        length = int(rng.uniform(1, 3) * FPS)
        spec.events.append(Event("speech", start, start, min(start + length, n), amplitude=float(rng.uniform(1.5, 3.5)),
                                 action=f"{rng.uniform(3, 5):.3f}"))
    start = int(rng.integers(int(FPS), max(n - 3 * int(FPS), int(FPS) + 1)))
    length = int(rng.uniform(1.5, 3) * FPS)  # a head turn (in the picture plane) and back
    spec.events.append(Event("turn", start, start + length // 3, min(start + length, n),
                             amplitude=float(rng.choice([-1, 1]) * rng.uniform(6, 12))))
    start = int(rng.integers(1, max(n - int(FPS), 2)))
    spec.events.append(Event("nod", start, start, min(start + int(FPS), n), amplitude=float(rng.uniform(3, 8))))
    if rng.random() < 0.5:
        start = int(rng.integers(1, max(n - 3 * int(FPS), 2)))
        spec.events.append(Event("light", start, start + int(2 * FPS), n, amplitude=float(rng.uniform(-0.3, 0.3))))
    spec.events.sort(key=lambda e: (e.onset, e.kind))
    return spec


def sample_dataset(subjects: int, seconds: float, seed: int) -> tuple[list, list[RecordingSpec]]:
    if subjects < 1 or seconds < 3:
        raise ValueError("synthetic recordings need at least one subject and 3 seconds each")
    people, specs = [], []
    for i, seq in enumerate(np.random.SeedSequence(seed).spawn(subjects), start=1):
        rng = np.random.default_rng(seq)
        people.append(sample_subject(i, rng))
        specs.append(sample_recording(i, seconds, rng))
    return people, specs


def head(spec: RecordingSpec, centre: np.ndarray, frame: int) -> np.ndarray:
    """2x3 matrix taking the still face's pixels to frame `frame`'s: sway, tremor, turn, nod, pan."""
    phase = 2 * np.pi * frame / spec.drift_period
    dx, dy = spec.drift[0] * np.sin(phase), spec.drift[1] * np.sin(1.3 * phase + 1)
    a1, f1, a2, f2 = spec.tremor
    dx += a1 * np.sin(2 * np.pi * f1 * frame / FPS) + a2 * np.sin(2 * np.pi * f2 * frame / FPS + 2)
    dy += a2 * np.sin(2 * np.pi * f2 * frame / FPS) + a1 * np.sin(2 * np.pi * f1 * frame / FPS + 1)
    angle = 0.0
    for e in spec.events:
        if e.kind == "turn" and e.onset <= frame <= e.offset:
            angle += e.amplitude * float(profile(Event("macro", e.onset, e.apex, e.offset), frame))
            dx += 0.8 * angle
        elif e.kind == "nod" and e.onset <= frame <= e.offset:
            dy += e.amplitude * np.sin(2 * np.pi * (frame - e.onset) / (e.offset - e.onset + 1)) * 2
        elif e.kind == "away" and e.onset <= frame <= e.offset:
            u = (frame - e.onset) / max(e.offset - e.onset, 1)  # out in the first third, back in the last
            dx += e.amplitude * float(smooth(min(3 * u, 3 * (1 - u), 1.0)))
    matrix = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), angle, 1.0)
    matrix[:, 2] += [dx, dy]
    return matrix


def true_landmarks(spec: RecordingSpec, subject, frame: int) -> np.ndarray:
    """The five landmarks (LANDMARKS order) of the still face, carried by the head to `frame`."""
    _, marks = subject_canvas(subject)
    points = np.array([marks[k] for k in ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")])
    centre = (points[0] + points[1]) / 2
    m = head(spec, centre, frame)
    return points @ m[:, :2].T + m[:, 2]


def mouth_bumps(marks: dict[str, np.ndarray]) -> list[Bump]:
    """The lower lip and chin dropping (speech)."""
    iod = float(np.linalg.norm(marks["right_eye"] - marks["left_eye"]))
    mouth = (marks["mouth_left"] + marks["mouth_right"]) / 2
    return [Bump(mouth + [0, 0.18 * iod], np.array([0.0, 1.0]), (0.35 * iod, 0.2 * iod))]


def strong_bumps(strong: Strong, marks: dict[str, np.ndarray]) -> list[Bump]:
    """A strong expression's displacement: its movements, 1.6 times as wide as a
    micro-expression's (a large displacement in a narrow patch would fold the face over), weighted."""
    iod = float(np.linalg.norm(marks["right_eye"] - marks["left_eye"]))
    out = []
    for move, weight in strong.moves:
        if move == "jaw":  # the lower lip and chin dropping
            mouth = (marks["mouth_left"] + marks["mouth_right"]) / 2
            bumps = [Bump(mouth + [0, 0.35 * iod], np.array([0.0, 1.0]), (0.45 * iod, 0.35 * iod))]
        else:
            bumps = action_bumps(move, "both", marks)
        out += [Bump(b.centre, b.direction * weight, (1.6 * b.sigma[0], 1.6 * b.sigma[1])) for b in bumps]
    return out


def uncoded_bumps(action: str, side: str, marks: dict[str, np.ndarray]) -> list[Bump]:
    """An uncoded movement's displacement (unit amplitude; `side` L, R or both)."""
    iod = float(np.linalg.norm(marks["right_eye"] - marks["left_eye"]))
    mouth = (marks["mouth_left"] + marks["mouth_right"]) / 2
    mid_x = (marks["left_eye"][0] + marks["right_eye"][0]) / 2
    if action == "lip_press":  # lips pressed together: upper lip down, lower lip up
        return [Bump(mouth + [0, -0.07 * iod], np.array([0.0, 1.0]), (0.25 * iod, 0.05 * iod)),
                Bump(mouth + [0, 0.09 * iod], np.array([0.0, -1.0]), (0.25 * iod, 0.05 * iod))]
    if action == "swallow":  # the chin and jaw line lifting
        return [Bump(mouth + [0, 0.55 * iod], np.array([0.0, -1.0]), (0.4 * iod, 0.15 * iod))]
    bumps = []
    for s in ("left", "right"):
        if side == "L" and s == "right" or side == "R" and s == "left":
            continue
        eye = marks[f"{s}_eye"]
        out = np.sign(eye[0] - mid_x) or 1.0
        if action == "nostril":  # the nose wings flaring
            bumps.append(Bump(marks["nose"] + [out * 0.17 * iod, 0.02 * iod], np.array([out, 0.0]),
                              (0.06 * iod, 0.06 * iod)))
        elif action == "gaze":  # the irises shifting sideways (amplitude's sign: which way)
            bumps.append(Bump(eye.astype(float), np.array([1.0, 0.0]), (0.07 * iod, 0.04 * iod)))
        else:  # a tic: the cheek under one eye twitching up and out
            bumps.append(Bump(eye + [out * 0.1 * iod, 0.3 * iod], np.array([out * 0.4, -0.92]),
                              (0.1 * iod, 0.08 * iod)))
    return bumps


def mouth_cavity(marks: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Where an open mouth shows (alpha, in the still face's pixels) and what it shows there
    (BGR: dark, with the upper teeth as a light band)."""
    iod = float(np.linalg.norm(marks["right_eye"] - marks["left_eye"]))
    left, right = marks["mouth_left"], marks["mouth_right"]
    centre = (left + right) / 2 + [0, 0.06 * iod]
    half = 0.36 * float(np.linalg.norm(right - left))
    alpha = np.zeros((FRAME_H, FRAME_W), np.float32)
    cv2.ellipse(alpha, (int(centre[0]), int(centre[1])), (int(half), int(0.08 * iod)), 0, 0, 360, 1.0, -1)
    alpha = cv2.GaussianBlur(alpha, (0, 0), 0.03 * iod)
    colour = np.empty((FRAME_H, FRAME_W, 3), np.float32)
    colour[:] = (52, 40, 70)
    top = int(centre[1] - 0.08 * iod)
    colour[top:top + int(0.05 * iod)] = (205, 212, 220)
    return alpha[..., None], cv2.GaussianBlur(colour, (0, 0), 1.5)


def render(subject, spec: RecordingSpec):
    """The recording's frames (BGR uint8), one at a time."""
    canvas, marks = subject_canvas(subject)
    centre = (marks["left_eye"] + marks["right_eye"]) / 2
    rng = np.random.default_rng(spec.seed)
    coded = [e for e in spec.events if e.kind in CODED]
    iod = float(np.linalg.norm(marks["right_eye"] - marks["left_eye"]))
    fields_ = {id(e): strong_bumps(STRONG[e.action], marks) if e.action in STRONG
               else action_bumps(e.action, e.side, marks) for e in coded}
    fields_ |= {id(e): uncoded_bumps(e.action, e.side, marks) for e in spec.events if e.kind == "uncoded"}
    eyes, mouth = blink_bumps(marks), mouth_bumps(marks)
    cavity_alpha, cavity = mouth_cavity(marks)
    region = bounds(eyes + mouth + [b for bs in fields_.values() for b in bs], 16)
    rx0, rx1, ry0, ry1 = region
    peaks = {}
    for e in coded + [e for e in spec.events if e.kind == "uncoded"]:
        gx, gy = np.meshgrid(np.arange(rx0, rx1, dtype=np.float32), np.arange(ry0, ry1, dtype=np.float32))
        peaks[id(e)] = float(np.max(np.hypot(*displacement(fields_[id(e)], gx, gy)))) or 1.0
    blurred = cv2.GaussianBlur(canvas, (0, 0), 4)
    lid_mask = np.zeros(canvas.shape[:2], np.float32)
    for b in eyes:
        cv2.ellipse(lid_mask, (int(b.centre[0]), int(b.centre[1] + b.sigma[1])),
                    (int(1.6 * b.sigma[0]), int(1.8 * b.sigma[1])), 0, 0, 360, 1.0, -1)
    lid_mask = cv2.GaussianBlur(lid_mask, (0, 0), 3)[..., None]
    yy, xx = np.mgrid[0:FRAME_H, 0:FRAME_W].astype(np.float32)
    hand = _hand_texture(rng, int(1.6 * iod), int(2.2 * iod))
    for frame in range(1, spec.n_frames + 1):
        forward = head(spec, centre, frame)
        inverse = cv2.invertAffineTransform(forward).astype(np.float32)
        mx = inverse[0, 0] * xx + inverse[0, 1] * yy + inverse[0, 2]
        my = inverse[1, 0] * xx + inverse[1, 1] * yy + inverse[1, 2]
        px, py = mx[ry0:ry1, rx0:rx1], my[ry0:ry1, rx0:rx1]
        ux, uy = np.zeros_like(px), np.zeros_like(py)
        closure, opening, light = 0.0, 0.0, 1.0
        for e in spec.events:
            if not e.onset <= frame <= e.offset and e.kind != "light":
                continue
            if e.kind in CODED:
                level = float(profile(e, frame))
                strong = STRONG.get(e.action)
                px_amplitude = e.amplitude * iod if strong else e.amplitude
                w = level * px_amplitude / peaks[id(e)]
                dx, dy = displacement(fields_[id(e)], px, py)
                if strong:  # lids and mouth as far as the expression's strength takes them
                    reach = level * min(1.0, e.amplitude / 0.15)
                    closure = max(closure, reach * strong.lids)
                    opening = max(opening, reach * strong.mouth)
            elif e.kind == "uncoded":
                w = float(profile(Event("micro", e.onset, e.apex, e.offset), frame)) * e.amplitude / peaks[id(e)]
                dx, dy = displacement(fields_[id(e)], px, py)
            elif e.kind == "blink":
                shut = float(profile(Event("micro", e.onset, e.apex, e.offset), frame))
                closure = max(closure, shut)
                w = shut * e.amplitude
                dx, dy = displacement(eyes, px, py)
            elif e.kind == "speech":
                f = float(e.action)
                w = e.amplitude * 0.5 * (1 - np.cos(2 * np.pi * f * (frame - e.onset) / FPS))
                dx, dy = displacement(mouth, px, py)
            elif e.kind == "light" and frame >= e.onset:
                light *= 1 + e.amplitude * float(smooth((frame - e.onset) / max(e.apex - e.onset, 1)))
                continue
            else:
                continue
            ux += w * dx
            uy += w * dy
        mx[ry0:ry1, rx0:rx1] -= ux
        my[ry0:ry1, rx0:rx1] -= uy
        source = canvas if closure == 0 else canvas + (0.8 * closure * lid_mask) * (blurred - canvas)
        if opening > 0:
            source = source + (opening * cavity_alpha) * (cavity - source)
        image = cv2.remap(source, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(118, 122, 126))
        for e in spec.events:
            if e.kind == "hand" and e.onset <= frame <= e.offset:
                u = (frame - e.onset) / max(e.offset - e.onset, 1)
                face = forward[:, :2] @ centre + forward[:, 2]
                x = face[0] + e.amplitude * (2.4 * u - 1.2) * 2.0 * iod
                _paste_hand(image, hand, x, face[1] + 0.6 * iod)
        image = image * np.float32(light) + rng.standard_normal(image.shape, dtype=np.float32) * spec.noise
        yield np.clip(image + 0.5, 0, 255).astype(np.uint8)


def _hand_texture(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """A skin-coloured, softly shaded palm with texture: BGR float32 plus an alpha channel."""
    alpha = np.zeros((h, w), np.float32)
    cv2.ellipse(alpha, (w // 2, h // 2), (w // 2 - 2, h // 2 - 2), 0, 0, 360, 1.0, -1)
    alpha = cv2.GaussianBlur(alpha, (0, 0), 3)
    grain = cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), 2) * 12
    shade = np.linspace(0.85, 1.1, w, dtype=np.float32)[None, :]
    colour = np.array([120, 150, 200], np.float32)
    rgb = (colour[None, None] * shade[..., None] + grain[..., None])
    return np.dstack([rgb, alpha])


def _paste_hand(image: np.ndarray, hand: np.ndarray, cx: float, cy: float) -> None:
    h, w = hand.shape[:2]
    x0, y0 = int(round(cx - w / 2)), int(round(cy - h / 2))
    ix0, iy0, ix1, iy1 = max(x0, 0), max(y0, 0), min(x0 + w, image.shape[1]), min(y0 + h, image.shape[0])
    if ix0 >= ix1 or iy0 >= iy1:
        return
    patch = hand[iy0 - y0:iy1 - y0, ix0 - x0:ix1 - x0]
    a = patch[..., 3:]
    image[iy0:iy1, ix0:ix1] = image[iy0:iy1, ix0:ix1] * (1 - a) + patch[..., :3] * a


def _write(job: tuple[Path, object, RecordingSpec, int]) -> int:
    folder, subject, spec, quality = job
    folder.mkdir(parents=True, exist_ok=True)
    for number, image in enumerate(render(subject, spec), start=1):
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:
            raise RuntimeError(f"JPEG encoding failed for {folder}/img{number:03d}.jpg")
        (folder / f"img{number:03d}.jpg").write_bytes(data.tobytes())
    return spec.n_frames


def emotion(e: Event) -> str:
    """The CAS(ME)^2 class coders give the expression."""
    return EMOTION[STRONG[e.action].emotion if e.action in STRONG else e.emotion]


def action_units(e: Event) -> str:
    if e.action in STRONG:
        return STRONG[e.action].aus
    return e.action if e.side == "both" else "+".join(e.side + a for a in e.action.split("+"))


def write_workbook(path: Path, specs: list[RecordingSpec]) -> None:
    """The CAS(ME)^2 workbook: the code sheet without a header, and the two naming rules."""
    book = openpyxl.Workbook()
    main = book.active
    main.title = "CASFEcode_final"
    for spec in specs:
        name = VIDEOS[spec.code][0]
        for k, e in enumerate((e for e in spec.events if e.kind in CODED), start=1):
            main.append([spec.subject, f"{name}_{k}", e.onset, e.apex, e.offset, action_units(e), emotion(e),
                         f"{e.kind}-expression", emotion(e)])
    rule1 = book.create_sheet("naming rule1")
    for spec in specs:
        rule1.append([spec.subject + 14, spec.folder, spec.subject])
    rule2 = book.create_sheet("naming rule2")
    for code, (name, _) in VIDEOS.items():
        rule2.append([code, name])
    buffer = io.BytesIO()
    book.save(buffer)
    stamp = rb"\g<1>2000-01-01T00:00:00Z"
    path.write_bytes(reproducible_zip(buffer.getvalue(), {
        "docProps/core.xml": [(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", stamp)]}))


def identity(subject: str) -> str:
    """'synthetic-s15' -> the photograph it is made of (the folds group by it)."""
    return photo_identity(f"synthetic-{int(subject.rsplit('-s', 1)[-1]) - 14}")


def generate(root: str | Path, subjects: int, seconds: float, seed: int, jpeg_quality: int,
             workers: int = 0, progress: bool = True) -> list[RecordingSpec]:
    """Write the recordings, the workbook and a table of every event (coded or not) under `root`."""
    root = Path(root)
    people, specs = sample_dataset(subjects, seconds, seed)
    jobs = [(root / FRAMES_DIR / s.folder / s.video_dir, p, s, jpeg_quality) for p, s in zip(people, specs)]
    for _ in map_clips(_write, jobs, workers=workers, desc="synthetic recordings", show_progress=progress):
        pass
    write_workbook(root / SHEET, specs)
    rows = [{"subject": s.folder, "video": s.code, **asdict(e)} for s in specs for e in s.events]
    pd.DataFrame(rows).to_csv(root / TRUTH, index=False)
    return specs
