"""A preprocessed recording as the interval spotter and the baselines read it.

Flow was computed at `recordings.flow.rate` frames a second (the nearest frame), so one
model serves 30 fps CAS(ME)^2 and 200 fps SAMM Long Videos, and its context means the same
time everywhere: the model's steps are those frames. The coded intervals become two per-step targets:
inside a micro-expression, inside a macro-expression.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from apexspot.core import arrayfiles
from apexspot.core.errors import ApexspotError
from apexspot.recordings.megc import KINDS, Span
from apexspot.recordings.recording import Interval, Recording

# Pooled flow is a fraction of a pixel of the aligned face: compressed so a blink's or a
# turn's few pixels do not drown a micro-expression's tenth of one.
FLOW_UNIT = 0.05


@dataclass
class Sequence:
    recording_id: str
    subject: str
    dataset: str
    fps: float
    numbers: np.ndarray  # every frame's number
    positions: np.ndarray  # the frames flow was computed at (the model's steps)
    features: np.ndarray  # steps x R x G x G x 3 float16 (raw pooled flow)
    valid: np.ndarray  # steps x R
    usable: np.ndarray  # every frame
    coded: dict[str, list[Span]]  # per kind, in frame positions (0-based, inclusive)
    apexes: dict[Span, int]  # coded apex position, where coded
    emotions: dict[Span, str] = field(default_factory=dict)  # the sheet's emotion of each coded interval ('' where it codes none)

    @property
    def frames(self) -> int:
        return len(self.numbers)

    @property
    def steps(self) -> int:
        return len(self.positions)

    @property
    def spottable(self) -> np.ndarray:
        """Per step: a usable face and flow from at least one reference. Nothing is spotted
        elsewhere: a step without flow (the first 0.2 s, right after a gap) has nothing to read."""
        return self.usable[self.positions] & self.valid.any(axis=1)

    @property
    def rate(self) -> float:
        """Steps per second."""
        return self.steps / self.frames * self.fps

    def inputs(self, steps: np.ndarray, mirror: bool = False) -> np.ndarray:
        """Model input at those steps: compressed flow and the validity of each reference;
        `mirror` flips the face left to right (cells reversed, u negated)."""
        x = self.features[steps].astype(np.float32)
        if mirror:
            x = x[:, :, :, ::-1] * np.array([-1, 1, 1], np.float32)
        x = np.sign(x) * np.log1p(np.abs(x) / FLOW_UNIT)
        flat = x.reshape(len(steps), -1)
        return np.concatenate([flat, self.valid[steps].astype(np.float32)], axis=1)

    def targets(self, steps: np.ndarray) -> np.ndarray:
        """steps x 2: inside a coded micro / macro interval."""
        frames = self.positions[steps]
        out = np.zeros((len(steps), len(KINDS)), np.float32)
        for k, kind in enumerate(KINDS):
            for span in self.coded[kind]:
                out[(frames >= span.onset) & (frames <= span.offset), k] = 1.0
        return out


def read(rec: Recording, intervals: list[Interval], root: str | Path) -> Sequence:
    """The preprocessed file of one recording with its coded intervals as frame positions."""
    path = arrayfiles.clip_file(root, rec.recording_id)
    data = arrayfiles.load(path)
    try:
        numbers, positions = data["numbers"].astype(np.int64), data["positions"].astype(np.int64)
        features, valid, usable = data["features"], data["valid"].astype(bool), data["usable"].astype(bool)
        fps = float(data["fps"])
    except KeyError as err:
        raise ApexspotError(f"{path}: not a preprocessed recording (no array {err}); rerun the preprocess stage") from None
    coded: dict[str, list[Span]] = {k: [] for k in KINDS}
    apexes: dict[Span, int] = {}
    emotions: dict[Span, str] = {}
    for i in intervals:
        on = int(np.searchsorted(numbers, i.onset))
        off = int(np.searchsorted(numbers, i.offset, side="right")) - 1
        if off < on:
            continue  # no frame of the interval on disk (a gap in the numbering)
        span = Span(on, off)
        coded[i.kind].append(span)
        emotions[span] = i.emotion
        if i.apex >= 0:
            apexes[span] = int(np.clip(np.searchsorted(numbers, i.apex), on, off))
    return Sequence(rec.recording_id, rec.subject, rec.dataset, fps, numbers, positions, features, valid, usable,
                    coded, apexes, emotions)


def read_all(recordings: list[Recording], intervals: list[Interval], root: str | Path) -> list[Sequence]:
    by_recording: dict[str, list[Interval]] = {}
    for i in intervals:
        by_recording.setdefault(i.recording_id, []).append(i)
    return [read(r, by_recording.get(r.recording_id, []), root) for r in recordings]
