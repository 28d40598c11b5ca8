"""Whole clips as training examples: pooled flow, targets on the model's frame grid, padding,
and the augmentations that respect what flow means (mirror, speed, a small shift)."""

from __future__ import annotations

import math
from pathlib import Path

import keras
import numpy as np

from apexspot.clips.labels import continuous_labels
from apexspot.clips.manifest import Clip
from apexspot.clips.spotters.clip.prior import ApexPrior
from apexspot.core import arrayfiles
from apexspot.core.config import ClipVariant
from apexspot.core.errors import ApexspotError

PAD_TO = 16  # clips are padded to a multiple of this many frames: few distinct shapes to compile
MIN_STRETCH, MAX_STRETCH = 0.8, 1.25  # time-stretch augmentation: the clip played 0.8-1.25 times as slow


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


def pooled(flow: np.ndarray, variant: ClipVariant) -> np.ndarray:
    """Every frame of a clip's flow averaged over `pool` x `pool` blocks (float32), each clip
    divided by its own 99th percentile when `normalise` is on."""
    flow = np.asarray(flow, np.float32)
    t, h, w, c = flow.shape
    k = variant.pool
    small = flow[:, :h // k * k, :w // k * k].reshape(t, h // k, k, w // k, k, c).mean(axis=(2, 4))
    if variant.normalise:
        # Relative motion: faces, cameras and flow methods differ in how many pixels an
        # expression moves; where in the clip it peaks does not change with that gain.
        small = small / (np.percentile(np.abs(small), 99) + 1e-3)
    return small


def log_prior_on_grid(prior: ApexPrior | None, frames: int, step: int) -> np.ndarray:
    """The prior's log on the frames 0, step, 2*step, ... (zeros without a prior)."""
    return prior.on_grid(frames, step) if prior else np.zeros(len(range(0, frames, step)), np.float32)


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

    def __init__(self, clips: list[Clip], flow_root: str | Path, prior: ApexPrior | None, variant: ClipVariant,
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
            flow = arrayfiles.load(arrayfiles.clip_file(flow_root, c.clip_id))["flow"]
            if len(flow) != c.n_frames:
                raise ApexspotError(f"{arrayfiles.clip_file(flow_root, c.clip_id)}: {len(flow)} frames, the manifest "
                                    f"says {c.n_frames}: rerun the pipeline with `dvc repro`")
            self.flows.append(pooled(flow, variant))
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
        prior = log_prior_on_grid(self.prior, frames, self.step)
        return flow, prior, q, intensity_target(apex, frames)[::self.step]

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
