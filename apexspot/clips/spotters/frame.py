"""The paper's spotter (`kind: frame`, Ng, Zulkifley et al. 2022): every flow frame scored
alone by the CNN of apexspot.clips.model against the continuous targets (MSE, Adam); the apex
is the best-scoring frame. Trained with train.frame."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np

from apexspot.clips.manifest import Clip
from apexspot.clips.model import build_model
from apexspot.clips.spotters.frame_batches import frame_batches
from apexspot.core.config import FrameVariant, TrainParams
from apexspot.core.console import fit_verbosity


class FrameSpotter:
    """build / fit / score for `kind: frame`; it has no state beyond the weights."""

    kind = "frame"
    inputs = 1  # one flow frame

    def __init__(self, variant: FrameVariant, channels: list[str]) -> None:
        self.variant, self.channels = variant, list(channels)

    def build(self, flow_shape: tuple[int, int, int]) -> keras.Model:
        return build_model(self.variant, flow_shape)

    def fit(self, model: keras.Model, train: list[Clip], held_out: list[Clip], flow_root: str | Path,
            p: TrainParams, callbacks: list[Any]) -> keras.callbacks.History:
        """Fit one fold's model; the held-out fold's loss is logged each epoch, never used to select."""
        recipe = p.frame
        batches = frame_batches(train, flow_root, recipe, shuffle=True, seed=p.seed)
        check = frame_batches(held_out, flow_root, recipe, shuffle=False, seed=p.seed)
        model.compile(optimizer=keras.optimizers.Adam(recipe.learning_rate), loss="mse", jit_compile=p.jit_compile)
        history = model.fit(batches, validation_data=check, epochs=recipe.epochs, callbacks=callbacks,
                            verbose=fit_verbosity())
        recalibrate_batchnorm(model, batches)
        return history

    def score(self, model: keras.Model, flow: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """Per-frame scores of one clip (T x H x W x C flow in, T scores out)."""
        # Direct calls, not model.predict: every clip has its own length, and predict would
        # retrace its compiled function for each new shape.
        batches = (flow[i:i + batch_size].astype(np.float32) for i in range(0, len(flow), batch_size))
        return np.concatenate([keras.ops.convert_to_numpy(model(x, training=False)).reshape(-1) for x in batches])

    def state(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_state(cls, variant: FrameVariant, channels: list[str], state: dict[str, Any]) -> "FrameSpotter":
        return cls(variant, channels)


def recalibrate_batchnorm(model: keras.Model, batches: keras.utils.PyDataset, steps: int = 20) -> None:
    """Replace BN moving statistics by their average over `steps` training batches, final weights.

    Moving averages taken during a short training mix in statistics of early, very
    different weights, and inference with them is far off; population statistics of the
    trained network ("precise BN") fix that. No-op for models without BatchNormalization.
    """
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    if not norms:
        return
    saved = [layer.momentum for layer in norms]
    for i in range(min(steps, len(batches))):
        for layer in norms:
            layer.momentum = i / (i + 1)  # running mean of the per-batch statistics
        model(batches[i][0], training=True)
    for layer, momentum in zip(norms, saved):
        layer.momentum = momentum
