"""Our spotter (`kind: clip`): the apex as a position in the clip, not a property of one frame.

The paper scores every frame alone and takes the argmax, so a blink or a nod anywhere in
the window can win. Here the network (network.py) sees every frame of the clip at once and
adds a prior over where apexes fall in a window (prior.py, fitted on the training folds
only); training (batches.py) minimises the cross-entropy between the posterior over frames
and a narrow Gaussian around the true apex. The apex reported is the posterior's most
probable frame (spot.method: argmax).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np

from apexspot.clips.manifest import Clip
from apexspot.core.config import ClipVariant, TrainParams
from apexspot.core.console import fit_verbosity
from apexspot.clips.spotters.clip.batches import (ClipBatches, batch_arrays, log_prior_on_grid, mirror, padded_length,
                                            pooled, stretch)
from apexspot.clips.spotters.clip.network import apex_loss, build_clip_model, intensity_loss
from apexspot.clips.spotters.clip.prior import ApexPrior


class ClipSpotter:
    """build / fit / score for `kind: clip`; its state is the prior of the training folds."""

    kind = "clip"
    inputs = 3  # the flow, its attention mask, the log prior

    def __init__(self, variant: ClipVariant, channels: list[str], prior: ApexPrior | None = None) -> None:
        self.variant, self.channels, self.prior = variant, list(channels), prior

    def build(self, flow_shape: tuple[int, int, int]) -> keras.Model:
        return build_clip_model(self.variant, flow_shape)

    def fit(self, model: keras.Model, train: list[Clip], held_out: list[Clip], flow_root: str | Path,
            p: TrainParams, callbacks: list[Any]) -> keras.callbacks.History:
        """Fit one fold (and its prior) on its training clips; the held-out loss is logged each
        epoch, never used to select."""
        v, recipe = self.variant, p.clip
        self.prior = ApexPrior.fit(train) if v.prior else None  # training folds only
        batches = ClipBatches(train, flow_root, self.prior, v, recipe.batch_size, self.channels, shuffle=True,
                              augment=recipe.augment, seed=p.seed)
        check = ClipBatches(held_out, flow_root, self.prior, v, recipe.batch_size, self.channels) if held_out else None
        # The weights kept are an exponential moving average of the last steps' (Keras swaps
        # them in when fit ends): with ~100 clips a fold, single-step weights vary a lot.
        optimizer = keras.optimizers.Adam(recipe.learning_rate, use_ema=True, ema_momentum=0.95)
        if len(model.outputs) == 1:
            model.compile(optimizer=optimizer, loss=apex_loss, jit_compile=p.jit_compile)
        else:  # apex logits and per-frame intensities
            model.compile(optimizer=optimizer, loss=[apex_loss, intensity_loss],
                          loss_weights=[1.0, v.intensity_weight], jit_compile=p.jit_compile)
        return model.fit(batches, validation_data=check, epochs=recipe.epochs, callbacks=callbacks,
                         verbose=fit_verbosity())

    def score(self, model: keras.Model, flow: np.ndarray) -> np.ndarray:
        """P(apex = frame t) over every frame of one clip (the model's coarser grid interpolated),
        averaged over the clip and its mirror image, each played at every `test_stretch` speed
        (speeds it was trained on)."""
        v, frames = self.variant, len(flow)
        small_all = pooled(flow, v)
        views, priors, grids = [], [], []
        for factor in v.test_stretch:
            played, _ = stretch(small_all, 0, factor) if factor != 1 else (small_all, 0)
            small = played[::v.frame_step]
            views += [small, mirror(small, self.channels)]
            priors += [log_prior_on_grid(self.prior, len(played), v.frame_step)] * 2
            grids += [np.arange(len(small)) * v.frame_step / factor] * 2  # in frames of the clip
        total = np.zeros(frames)
        steps = padded_length(max(len(view) for view in views))  # every view padded alike
        for view, prior, grid in zip(views, priors, grids):
            # One view at a time: a long recording's six views through the encoder at once
            # would hold gigabytes of activations.
            (x, mask, lp), _ = batch_arrays([view], [prior], steps=steps)
            out = model([x, mask, lp], training=False)
            out = out[0] if isinstance(out, (list, tuple)) else out  # logits (and per-frame intensities)
            view = keras.ops.convert_to_numpy(out).astype(np.float64)[0, :len(grid)]  # a torch tensor detached too
            p = np.exp(view - view.max())
            full = np.interp(np.arange(frames), grid, p / p.sum())
            total += full / full.sum()
        return total / total.sum()

    def state(self) -> dict[str, Any]:
        return {"prior": self.prior.to_dict() if self.prior else None}

    @classmethod
    def from_state(cls, variant: ClipVariant, channels: list[str], state: dict[str, Any]) -> "ClipSpotter":
        prior = state.get("prior")
        return cls(variant, channels, ApexPrior(**prior) if prior else None)
