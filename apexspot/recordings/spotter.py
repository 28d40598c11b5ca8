"""The interval spotter: where in a long recording each micro- and macro-expression is.

Per step (the frames the flow was computed at, `recordings.flow.rate` a second) the pooled flow of every reference is
encoded by a dense layer; dilated 1-D convolutions (residual, dilation 1, 2, 4, ...) give
each step a few seconds of context on both sides, which is what tells a micro-expression
from a blink of the same length (where on the face, which way, what comes before and after)
and a macro-expression's plateau from stillness. Two sigmoid outputs per step: inside a
coded micro-expression, inside a macro-expression; frames without a usable face carry no
weight in the loss. Trained on random windows of the training recordings (mirrored with u
negated, and stretched 0.9-1.1x in time); the decoding thresholds are then fitted on the
same training recordings (apexspot.recordings.intervals). `keras.ops` and Keras layers only, so
it trains and scores on TensorFlow, JAX and PyTorch.

Same interface as the short-clip spotters: `build`, `fit`, `score`, `state`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import keras
import numpy as np
from keras import layers

from apexspot.core.config import IntervalSpotterParams, IntervalTraining
from apexspot.core.errors import ApexspotError, ParamsError
from apexspot.core.modelfiles import load_fold, read_record, save_fold
from apexspot.recordings.intervals import Spotted, decode, fit_decoding
from apexspot.recordings.megc import KINDS
from apexspot.recordings.sequences import Sequence


class IntervalSpotter:
    kind = "interval"
    inputs = 1  # the per-step features

    def __init__(self, p: IntervalSpotterParams, state: dict[str, Any] | None = None) -> None:
        self.p = p
        state = state or {}
        self.thresholds: dict[str, float] = dict(state.get("thresholds") or {k: 0.5 for k in KINDS})
        self.min_s: dict[str, float] = dict(state.get("min_s") or {k: 0.0 for k in KINDS})

    def build(self, n_inputs: int) -> keras.Model:
        inputs = keras.Input((None, n_inputs), name="flow")
        h = layers.Dense(self.p.width, activation="relu")(inputs)
        h = layers.Dropout(self.p.dropout_rate)(h)
        for i in range(self.p.temporal_layers):
            r = layers.Conv1D(self.p.width, 3, dilation_rate=2**i, padding="same", activation="relu")(h)
            h = layers.Add()([h, r])
        out = layers.Conv1D(len(KINDS), 1, activation="sigmoid", name="inside")(h)
        return keras.Model(inputs, out, name="interval_spotter")

    # ------------------------------------------------------------ training

    def windows(self, sequences: list[Sequence], count: int, t: IntervalTraining, rng: np.random.Generator,
                augment: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`count` random windows: inputs, targets and per-step weights (0 off the end and
        where the face is unusable)."""
        lengths = np.array([s.frames / s.fps for s in sequences])
        xs, ys, ws = [], [], []
        for _ in range(count):
            seq = sequences[int(rng.choice(len(sequences), p=lengths / lengths.sum()))]
            steps = max(8, int(round(t.crop_s * seq.rate)))
            stretch = float(rng.uniform(0.9, 1.1)) if augment else 1.0
            span = steps * stretch
            start = float(rng.uniform(-0.25 * span, max(seq.steps - 0.75 * span, 0) + 1))
            idx = np.round(start + np.arange(steps) * stretch).astype(int)
            inside = (idx >= 0) & (idx < seq.steps)
            idx = idx.clip(0, seq.steps - 1)
            x = seq.inputs(idx, mirror=augment and bool(rng.random() < 0.5))
            ys.append(seq.targets(idx))
            ws.append((inside & seq.usable[seq.positions[idx]]).astype(np.float32))
            xs.append(x * inside[:, None])
        return np.stack(xs), np.stack(ys), np.stack(ws)

    def fit(self, model: keras.Model, train: list[Sequence], held_out: list[Sequence], t: IntervalTraining,
            callbacks: list[Any]) -> keras.callbacks.History:
        rng = np.random.default_rng(t.seed)
        model.compile(optimizer=keras.optimizers.Adam(t.learning_rate), loss="binary_crossentropy")
        check = self.windows(held_out, 16, t, np.random.default_rng(t.seed + 1), augment=False) if held_out else None
        history = keras.callbacks.History()
        history.set_model(model)
        history.on_train_begin()
        for epoch in range(t.epochs):
            x, y, w = self.windows(train, t.crops_per_epoch, t, rng, augment=t.augment)
            step = model.fit(x, y, sample_weight=w, batch_size=t.batch_size, epochs=epoch + 1, initial_epoch=epoch,
                             shuffle=False, verbose=0, callbacks=callbacks,
                             validation_data=check)
            history.on_epoch_end(epoch, {k: v[-1] for k, v in step.history.items()})
        self.fit_decoding(model, train)
        return history

    def fit_decoding(self, model: keras.Model, train: list[Sequence]) -> None:
        tracks = []
        for seq in train:
            positions, probs = self.score(model, seq)
            tracks.append((probs, positions, seq.spottable, seq.frames, seq.coded, seq.rate, seq.fps))
        self.thresholds, self.min_s = fit_decoding(tracks, self.p.smooth_s)

    # ------------------------------------------------------------ scoring

    def score(self, model: keras.Model, seq: Sequence) -> tuple[np.ndarray, np.ndarray]:
        """(frame positions, steps x 2 probabilities) over the whole recording."""
        x = seq.inputs(np.arange(seq.steps))[None]
        probs = keras.ops.convert_to_numpy(model(x, training=False))[0].astype(np.float64)
        return seq.positions, probs

    def intervals(self, positions: np.ndarray, probs: np.ndarray, seq: Sequence) -> list[Spotted]:
        return decode(probs, positions, seq.spottable, seq.frames, seq.rate, seq.fps, self.thresholds, self.min_s,
                      self.p.smooth_s)

    def state(self) -> dict[str, Any]:
        return {"spotter": self.p.model_dump(), "thresholds": self.thresholds, "min_s": self.min_s}


def save(model: keras.Model, spotter: IntervalSpotter, path: Path, **extra: Any) -> None:
    """recordings/models/fold_<k>.keras and its record (settings, fitted thresholds) beside it."""
    save_fold(model, path, spotter.state() | extra)


def load(path: str | Path) -> tuple[keras.Model, IntervalSpotter]:
    """A trained interval spotter, its record checked before the weights are read."""
    path = Path(path)
    record_path = path.with_suffix(".json")
    record = read_record(path)
    try:
        p = IntervalSpotterParams.from_params(record.get("spotter"), f"{record_path}: spotter")
    except ParamsError as err:
        raise ApexspotError(str(err)) from None
    for key in ("thresholds", "min_s"):
        values = record.get(key)
        ok = isinstance(values, dict) and set(values) == set(KINDS) and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0
            for v in values.values())
        if not ok:
            raise ApexspotError(f"{record_path}: {key} must give a number for micro and macro, not {values!r}")
    return load_fold(path, IntervalSpotter.kind, IntervalSpotter.inputs), IntervalSpotter(p, record)
