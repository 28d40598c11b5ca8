"""Our spotter (`kind: clip`): the apex as a position in the clip, not a property of one frame.

The paper scores every frame alone and takes the argmax, so a blink or a nod anywhere in
the window can win. Here a small CNN turns each frame's flow into a feature vector, dilated
1-D convolutions look at the frames around it and at a summary of the whole clip, and one
logit per frame is added to the log of a prior over where apexes fall in a window (fitted
on the training folds only). A softmax over the clip's frames is the posterior of the apex
position; training minimises its cross-entropy with a narrow Gaussian around the true apex.
The apex reported is the posterior's most probable frame (spot.method: argmax); its median
(spot.method: median, the estimate that minimises the expected absolute error of a
calibrated posterior) measured a little worse on the synthetic data (README).

Only keras.ops, so it runs on TensorFlow, JAX and PyTorch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
from keras import layers, ops

from apexspot import clipfiles
from apexspot.console import fit_verbosity
from apexspot.config import TrainParams, Variant
from apexspot.datasets.manifest import Clip
from apexspot.errors import ApexspotError
from apexspot.labels import continuous_labels

PAD_TO = 16  # clips are padded to a multiple of this many frames: few distinct shapes to compile
MIN_STRETCH, MAX_STRETCH = 0.8, 1.25  # time-stretch augmentation: the clip played 0.8-1.25 times as slow
NEG = -1e9


# ------------------------------------------------------------------ the prior


@dataclass
class ApexPrior:
    """Where the apex sits in the onset-offset window, as a fraction r in [0, 1]:
    a Beta(a, b) fitted by moments to the training clips, mixed with a little of the uniform
    so no frame is impossible (CASME II has apexes on the onset and on the offset)."""

    a: float = 1.0
    b: float = 1.0
    uniform: float = 0.1
    clips: int = 0

    @classmethod
    def fit(cls, clips: list[Clip], uniform: float = 0.1) -> "ApexPrior":
        r = np.array([(c.apex - c.onset) / (c.offset - c.onset) for c in clips], float)
        if r.size < 2:
            return cls(uniform=1.0, clips=int(r.size))
        r = np.clip(r, 0.01, 0.99)
        mean, var = float(r.mean()), max(float(r.var()), 1e-4)
        common = mean * (1 - mean) / var - 1
        if common <= 0:  # wider than any Beta: uniform
            return cls(uniform=1.0, clips=int(r.size))
        return cls(a=mean * common, b=(1 - mean) * common, uniform=uniform, clips=int(r.size))

    def log_prior(self, frames: int) -> np.ndarray:
        """log P(apex = frame t) for t = 0..frames-1 of a window of `frames` frames."""
        r = (np.arange(frames) + 0.5) / frames
        log_beta = ((self.a - 1) * np.log(r) + (self.b - 1) * np.log1p(-r)
                    - (math.lgamma(self.a) + math.lgamma(self.b) - math.lgamma(self.a + self.b)))
        density = (1 - self.uniform) * np.exp(log_beta) + self.uniform
        return np.log(density / density.sum()).astype(np.float32)

    def to_dict(self) -> dict[str, float]:
        return {"a": self.a, "b": self.b, "uniform": self.uniform, "clips": self.clips}


# ------------------------------------------------------------------ the network


@keras.saving.register_keras_serializable(package="apexspot")
class FoldTime(layers.Layer):
    """(B, T, H, W, C) -> (B*T, H, W, C): every frame of every clip through the same encoder.
    (TimeDistributed keeps the first batch's clip length in a traced TensorFlow graph.)"""

    def call(self, x):
        return ops.reshape(x, (-1, *x.shape[2:]))

    def compute_output_shape(self, input_shape):
        return (None, *input_shape[2:])


@keras.saving.register_keras_serializable(package="apexspot")
class ShortRange(layers.Layer):
    """Beside the flow from the onset, its change since the previous (kept) frame: the
    motion of this moment. A blink comes and goes within a few frames; an expression
    builds up over the window."""

    def call(self, flow):
        previous = ops.concatenate([flow[:, :1], flow[:, :-1]], axis=1)
        return ops.concatenate([flow, flow - previous], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], 2 * input_shape[-1])


@keras.saving.register_keras_serializable(package="apexspot")
class UnfoldTime(layers.Layer):
    """(B*T, F) -> (B, T, F), with B and T read from the clip tensor."""

    def call(self, features, clips):
        shape = ops.shape(clips)
        return ops.reshape(features, (shape[0], shape[1], features.shape[-1]))

    def compute_output_shape(self, features_shape, clips_shape):
        return (clips_shape[0], clips_shape[1], features_shape[-1])


def frame_features(flow, width: int, tag: str = ""):
    """Each frame's (pooled) flow -> `width` features, keeping a coarse 3x3 map of where motion is."""
    x = FoldTime(name=f"frames{tag}")(flow)  # 25 x 25 (75 / pool 3)
    x = layers.Conv2D(16, 3, padding="same", activation="relu", name=f"enc_conv1{tag}")(x)
    x = layers.Conv2D(32, 3, strides=2, activation="relu", name=f"enc_conv2{tag}")(x)  # 12
    x = layers.Conv2D(width, 3, strides=2, activation="relu", name=f"enc_conv3{tag}")(x)  # 5
    x = layers.AveragePooling2D(2, padding="same", name=f"enc_pool{tag}")(x)  # 3
    x = layers.Flatten(name=f"enc_flat{tag}")(x)
    x = layers.Dense(width, activation="relu", name=f"enc_dense{tag}")(x)
    return UnfoldTime(name=f"per_frame{tag}")(x, flow)


@keras.saving.register_keras_serializable(package="apexspot")
class ClipContext(layers.Layer):
    """Each frame's features beside the masked mean and max over its clip: what the frame
    shows relative to the rest of the clip (the largest motion of this clip, not of any clip)."""

    def call(self, features, mask):
        m = ops.expand_dims(ops.cast(mask, features.dtype), -1)
        count = ops.maximum(ops.sum(m, axis=1, keepdims=True), 1.0)
        mean = ops.sum(features * m, axis=1, keepdims=True) / count
        peak = ops.max(features * m - (1 - m) * 1e4, axis=1, keepdims=True)
        steps = ops.shape(features)[1]
        return ops.concatenate([features, ops.repeat(mean, steps, axis=1), ops.repeat(peak, steps, axis=1),
                                features - ops.repeat(peak, steps, axis=1)], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], 4 * input_shape[-1])


@keras.saving.register_keras_serializable(package="apexspot")
class MaskedLogits(layers.Layer):
    """Evidence + log prior, and a very negative logit on padding frames (always float32)."""

    def call(self, evidence, log_prior, mask):
        evidence = ops.cast(ops.squeeze(evidence, -1), "float32")
        valid = ops.cast(mask, "float32")
        return (evidence + log_prior) * valid + (1.0 - valid) * NEG

    def compute_output_shape(self, input_shape):
        return input_shape[:-1]


def member_logits(flow, mask, log_prior, variant: Variant, tag: str = ""):
    """One network of the ensemble: per-frame features, temporal context, logits (B, T), and
    (intensity_weight > 0) each frame's expression intensity (B, T, 1)."""
    x = ShortRange(name=f"short_range{tag}")(flow) if variant.short_range else flow
    h = frame_features(x, variant.width, tag)
    if variant.dropout_rate:
        h = layers.Dropout(variant.dropout_rate, name=f"feature_dropout{tag}")(h)
    h = ClipContext(name=f"clip_context{tag}")(h, mask)
    h = layers.Dense(variant.width, activation="relu", name=f"mix{tag}")(h)
    for i in range(variant.temporal_layers):
        step = layers.Conv1D(variant.width, 3, padding="same", dilation_rate=2 ** i, activation="relu",
                             name=f"temporal{i + 1}{tag}")(h)
        h = layers.Add(name=f"residual{i + 1}{tag}")([h, step])
    evidence = layers.Dense(1, dtype="float32", name=f"evidence{tag}")(h)
    intensity = layers.Dense(1, dtype="float32", name=f"intensity{tag}")(h) if variant.intensity_weight else None
    return MaskedLogits(name=f"logits{tag}")(evidence, log_prior, mask), intensity


@keras.saving.register_keras_serializable(package="apexspot")
class Stack(layers.Layer):
    """The members' logits side by side: (B, members, T)."""

    def call(self, logits):
        return ops.stack(logits, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], len(input_shape), input_shape[0][1])


def build_clip_model(variant: Variant, flow_shape: tuple[int, int, int] = (75, 75, 3),
                     name: str = "apexspot_clip") -> keras.Model:
    """Inputs: flow (B, T, H, W, C), mask (B, T), log_prior (B, T) (zeros for `prior: false`);
    output: logits (B, members, T) of `variant.members` independently initialised networks,
    and with `intensity_weight` > 0 also each frame's predicted intensity (B, members, T)."""
    flow = keras.Input((None, *input_shape(flow_shape, variant)), name="flow")
    mask = keras.Input((None,), name="mask")
    log_prior = keras.Input((None,), name="log_prior")
    members = [member_logits(flow, mask, log_prior, variant, f"_{m}" if m else "") for m in range(variant.members)]
    logits = Stack(name="members")([m[0] for m in members])
    if not variant.intensity_weight:
        return keras.Model([flow, mask, log_prior], logits, name=name)
    intensity = Stack(name="intensities")([layers.Reshape((-1,), name=f"flat_intensity{m}")(member[1])
                                           for m, member in enumerate(members)])
    return keras.Model([flow, mask, log_prior], [logits, intensity], name=name)


@keras.saving.register_keras_serializable(package="apexspot")
def members_loss(target, logits):
    """Each member's cross-entropy with the target distribution, averaged: the members' gradients
    do not mix, so they train as independent models on the same batches."""
    log_p = logits - ops.logsumexp(logits, axis=-1, keepdims=True)
    return -ops.mean(ops.sum(ops.expand_dims(target, 1) * log_p, axis=-1), axis=-1)


@keras.saving.register_keras_serializable(package="apexspot")
def intensity_loss(target, predicted):
    """Squared error of each member's per-frame intensity against the paper's continuous
    targets (0 at onset and offset, 1 at the apex); padding frames (target -1) do not count."""
    valid = ops.cast(target >= 0, predicted.dtype)
    error = ops.square(predicted - ops.expand_dims(target, 1)) * ops.expand_dims(valid, 1)
    return ops.sum(ops.mean(error, axis=1), axis=-1) / ops.maximum(ops.sum(valid, axis=-1), 1.0)


# ------------------------------------------------------------------ data


def padded_length(frames: int) -> int:
    return int(math.ceil(frames / PAD_TO) * PAD_TO)


def target(apex_index: int, frames: int, sigma_fraction: float) -> np.ndarray:
    """A Gaussian around the apex, sd = sigma_fraction of the window (at least one frame)."""
    sigma = max(1.0, sigma_fraction * frames)
    q = np.exp(-0.5 * ((np.arange(frames) - apex_index) / sigma) ** 2)
    return (q / q.sum()).astype(np.float32)


def intensity_target(apex_index: int, frames: int) -> np.ndarray:
    """The paper's continuous per-frame target over a window of `frames` frames (apex = 1)."""
    return continuous_labels(0, apex_index, frames - 1) if frames > 1 else np.ones(1, np.float32)


def batch_arrays(flows: list[np.ndarray], priors: list[np.ndarray], targets: list[np.ndarray] | None = None,
                 steps: int | None = None) -> tuple[tuple[np.ndarray, ...], np.ndarray | None]:
    """Clips of different lengths as one batch padded to `steps` frames (default: the
    longest, rounded up): ((flow, mask, log_prior), target)."""
    steps = steps or padded_length(max(len(f) for f in flows))
    n, shape = len(flows), flows[0].shape[1:]
    x = np.zeros((n, steps, *shape), np.float32)
    mask = np.zeros((n, steps), np.float32)
    prior = np.zeros((n, steps), np.float32)
    y = np.zeros((n, steps), np.float32) if targets is not None else None
    for i, f in enumerate(flows):
        x[i, :len(f)] = f
        mask[i, :len(f)] = 1
        prior[i, :len(f)] = priors[i]
        if y is not None:
            y[i, :len(f)] = targets[i]
    return (x, mask, prior), y


def shrink(flow: np.ndarray, variant: Variant) -> np.ndarray:
    """The clip model's view of a clip's flow: every `frame_step`-th frame, averaged over
    `pool` x `pool` blocks (float32)."""
    flow = np.asarray(flow[::variant.frame_step], np.float32)
    t, h, w, c = flow.shape
    k = variant.pool
    small = flow[:, :h // k * k, :w // k * k].reshape(t, h // k, k, w // k, k, c).mean(axis=(2, 4))
    if variant.normalise:
        # Relative motion: faces, cameras and flow methods differ in how many pixels an
        # expression moves; where in the clip it peaks does not change with that gain.
        small = small / (np.percentile(np.abs(small), 99) + 1e-3)
    return small


def input_shape(frame_shape: tuple[int, int, int], variant: Variant) -> tuple[int, int, int]:
    return frame_shape[0] // variant.pool, frame_shape[1] // variant.pool, frame_shape[2]


def sub_prior(prior: ApexPrior | None, frames: int, step: int) -> np.ndarray:
    """log prior of the frames 0, step, 2*step, ... of a window of `frames` frames."""
    if prior is None:
        return np.zeros(len(range(0, frames, step)), np.float32)
    p = np.exp(prior.log_prior(frames)[::step])
    return np.log(p / p.sum()).astype(np.float32)


def mirror(flow: np.ndarray, channels: list[str]) -> np.ndarray:
    """The flow of the mirrored face: x reversed, u negated (magnitude and strain unchanged)."""
    out = flow[:, :, ::-1].copy()
    if "u" in channels:
        out[..., channels.index("u")] *= -1
    return out


def stretch(flow: np.ndarray, apex: int, factor: float) -> tuple[np.ndarray, int]:
    """The clip played `factor` times slower (nearest frames; frame 0 stays the onset)."""
    frames = len(flow)
    new = max(3, int(round((frames - 1) * factor)) + 1)
    index = np.minimum(np.round(np.arange(new) / factor).astype(int), frames - 1)
    return flow[index], int(min(round(apex * factor), new - 1))


class ClipBatches(keras.utils.PyDataset):
    """Whole clips as padded batches of clips of similar length; a fold's flow is held in memory.

    Each batch is padded only to its own longest clip (time-stretched when augmenting), rounded
    up to PAD_TO frames: padding to the fold's longest clip spent most of the compute on
    padding. Keras' TensorFlow adapter fixes the batch shape from the first two batches it
    sees, so those two are made to differ in length (the time axis is then left open).
    """

    def __init__(self, clips: list[Clip], flow_root: str | Path, prior: ApexPrior | None, variant: Variant,
                 batch_size: int, channels: list[str], shuffle: bool = False, augment: bool = False,
                 seed: int = 0) -> None:
        super().__init__(workers=1, use_multiprocessing=False)
        self.clips, self.prior, self.batch_size, self.sigma = clips, prior, batch_size, variant.target_sigma
        self.channels, self.shuffle, self.augment = channels, shuffle, augment
        self.intensity = variant.intensity_weight > 0
        self.rng = np.random.default_rng(seed)
        self.step = variant.frame_step
        self.flows = []
        for c in clips:
            flow = clipfiles.load(clipfiles.clip_file(flow_root, c.clip_id))["flow"]
            if len(flow) != c.n_frames:
                raise ApexspotError(f"{clipfiles.clip_file(flow_root, c.clip_id)}: {len(flow)} frames, the manifest "
                                    f"says {c.n_frames}: rerun the pipeline with `dvc repro`")
            self.flows.append(shrink(flow, variant.model_copy(update={"frame_step": 1})))
        self.order = self._order()
        # If the first two batches (the ones Keras reads the shape from) share a length, every
        # batch of every epoch gets it: a later shuffle must not bring a shorter batch.
        first = {padded_length(self.longest(b)) for b in self.order[:2]}
        self.fixed = padded_length(self.longest(np.arange(len(clips)))) if len(first) == 1 else None

    def longest(self, clips: np.ndarray) -> int:
        """Frames of the batch's longest clip as the model sees it (after the most stretch)."""
        frames = max(len(self.flows[i]) for i in clips)
        if self.augment:
            frames = int(round((frames - 1) * MAX_STRETCH)) + 1
        return len(range(0, frames, self.step))

    def _order(self) -> list[np.ndarray]:
        """Batches of clips of similar length (less padding), in random order when shuffling."""
        lengths = np.array([len(f) for f in self.flows])
        index = np.argsort(lengths + (self.rng.random(len(lengths)) * 16 if self.shuffle else 0), kind="stable")
        batches = [index[i:i + self.batch_size] for i in range(0, len(index), self.batch_size)]
        if self.shuffle:
            batches = [batches[i] for i in self.rng.permutation(len(batches))]
        steps = [padded_length(self.longest(b)) for b in batches]
        other = next((i for i in range(1, len(batches)) if steps[i] != steps[0]), None)
        if other is not None:  # the first two batches differ in length (see the class docstring)
            batches[1], batches[other] = batches[other], batches[1]
        return batches

    def on_epoch_end(self) -> None:
        if self.shuffle:
            self.order = self._order()

    def __len__(self) -> int:
        return len(self.order)

    def example(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(flow, log prior, apex target, per-frame intensity target) of clip i on the model's
        frame grid, augmented when training."""
        clip, flow = self.clips[i], self.flows[i]
        apex = clip.apex - clip.onset
        if self.augment:
            if self.rng.random() < 0.5:
                flow = mirror(flow, self.channels)
            factor = np.exp(self.rng.uniform(np.log(MIN_STRETCH), np.log(MAX_STRETCH)))
            flow, apex = stretch(flow, apex, float(factor))
            # A new face is aligned a little differently: shift by up to one pooled cell.
            flow = np.roll(flow, tuple(self.rng.integers(-1, 2, size=2)), axis=(1, 2))
        frames = len(flow)
        flow = flow[::self.step]
        q = target(apex, frames, self.sigma)
        q = np.add.reduceat(q, np.arange(0, frames, self.step))  # each kept frame takes its step's mass
        return flow, sub_prior(self.prior, frames, self.step), q, intensity_target(apex, frames)[::self.step]

    def __getitem__(self, b: int):
        clips = self.order[b]
        examples = [self.example(int(i)) for i in clips]
        steps = self.fixed or padded_length(self.longest(clips))
        x, y = batch_arrays([e[0] for e in examples], [e[1] for e in examples], [e[2] for e in examples], steps)
        if not self.intensity:
            return x, y
        intensity = np.full((len(examples), steps), -1.0, np.float32)  # -1: padding, not scored
        for row, e in enumerate(examples):
            intensity[row, :len(e[3])] = e[3]
        return x, (y, intensity)


# ------------------------------------------------------------------ training and scoring


def compile_clip_model(model: keras.Model, learning_rate: float, jit_compile: Any = "auto",
                       intensity_weight: float = 0.0) -> None:
    # The weights kept are an exponential moving average of the last steps' (Keras swaps
    # them in when fit ends): with ~100 clips a fold, single-step weights vary a lot.
    optimizer = keras.optimizers.Adam(learning_rate, use_ema=True, ema_momentum=0.95)
    if len(model.outputs) == 1:
        model.compile(optimizer=optimizer, loss=members_loss, jit_compile=jit_compile)
    else:  # logits and per-frame intensities
        model.compile(optimizer=optimizer, loss=[members_loss, intensity_loss], loss_weights=[1.0, intensity_weight],
                      jit_compile=jit_compile)


def train_clip_fold(model: keras.Model, train: list[Clip], held_out: list[Clip], flow_root: str | Path,
                    variant: Variant, p: TrainParams, channels: list[str], prior: ApexPrior | None,
                    callbacks: list[Any]) -> keras.callbacks.History:
    """Fit one fold's clip model; the held-out loss is logged each epoch, never used to select."""
    batch = variant.batch_size or p.batch_size
    batches = ClipBatches(train, flow_root, prior, variant, batch, channels, shuffle=True, augment=p.augment,
                          seed=p.seed)
    check = ClipBatches(held_out, flow_root, prior, variant, batch, channels) if held_out else None
    compile_clip_model(model, variant.learning_rate or p.learning_rate, p.jit_compile, variant.intensity_weight)
    return model.fit(batches, validation_data=check, epochs=variant.epochs or p.epochs, callbacks=callbacks,
                     verbose=fit_verbosity())


def posterior(model: keras.Model, flow: np.ndarray, prior: ApexPrior | None, variant: Variant,
              channels: list[str] = ("u", "v", "magnitude")) -> np.ndarray:
    """P(apex = frame t) over every frame of one clip (the model's coarser grid interpolated),
    averaged over the ensemble's members, the clip and its mirror image, and the clip played
    at each of `variant.test_stretch` speeds (the speeds it was trained on)."""
    frames = len(flow)
    pooled = shrink(flow, variant.model_copy(update={"frame_step": 1}))
    views, priors, grids = [], [], []
    for factor in variant.test_stretch:
        played, _ = stretch(pooled, 0, factor) if factor != 1 else (pooled, 0)
        small = played[::variant.frame_step]
        views += [small, mirror(small, list(channels))]
        priors += [sub_prior(prior, len(played), variant.frame_step)] * 2
        grids += [np.arange(len(small)) * variant.frame_step / factor] * 2  # in frames of the clip
    (x, mask, lp), _ = batch_arrays(views, priors)
    out = model([x, mask, lp], training=False)
    out = out[0] if isinstance(out, (list, tuple)) else out  # logits (and per-frame intensities)
    logits = np.asarray(out, np.float64)  # views, members, T
    total = np.zeros(frames)
    for view, grid in zip(logits, grids):
        view = view[:, :len(grid)]
        p = np.exp(view - view.max(axis=-1, keepdims=True))
        p = (p / p.sum(axis=-1, keepdims=True)).mean(axis=0)
        full = np.interp(np.arange(frames), grid, p)
        total += full / full.sum()
    return total / total.sum()
