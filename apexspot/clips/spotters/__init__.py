"""One interface for every spotter kind: `build` a network for a flow shape, `fit` it on a
fold's training clips, `score` the frames of one clip (higher = more likely the apex).

A spotter's `state()` is what scoring needs beside the weights (the clip spotter's prior
of the training folds); apexspot.clips.trained stores it next to the model. The kind is chosen in
one place, `spotter()`, from the variant's `kind`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import keras
import numpy as np

from apexspot.clips.manifest import Clip
from apexspot.clips.spotters.clip import ClipSpotter
from apexspot.clips.spotters.frame import FrameSpotter
from apexspot.core.config import ClipVariant, FrameVariant, TrainParams


class Spotter(Protocol):
    kind: str
    inputs: int  # how many inputs its network takes (a weights file from another kind is refused)
    variant: FrameVariant | ClipVariant
    channels: list[str]

    def build(self, flow_shape: tuple[int, int, int]) -> keras.Model: ...

    def fit(self, model: keras.Model, train: list[Clip], held_out: list[Clip], flow_root: str | Path,
            p: TrainParams, callbacks: list[Any]) -> keras.callbacks.History: ...

    def score(self, model: keras.Model, flow: np.ndarray) -> np.ndarray: ...

    def state(self) -> dict[str, Any]: ...


KINDS: dict[str, Any] = {"frame": FrameSpotter, "clip": ClipSpotter}


def spotter(variant: FrameVariant | ClipVariant, channels: list[str], state: dict[str, Any] | None = None) -> Spotter:
    """The spotter of the variant's kind (with the state a trained fold saved, if given)."""
    return KINDS[variant.kind].from_state(variant, list(channels), state or {})
