"""The paper's training examples: single flow frames and their continuous targets, streamed
from data/flow/<clip>.npz or held in memory when the fold fits."""

from __future__ import annotations

import math
import os
from collections import OrderedDict
from pathlib import Path

import keras
import numpy as np

from apexspot.clips.labels import continuous_labels
from apexspot.clips.manifest import Clip
from apexspot.core import arrayfiles
from apexspot.core.config import FrameTraining


class FlowFrames(keras.utils.PyDataset):
    """(flow frame, continuous target) batches read from data/flow/<clip>.npz on demand.

    Each epoch the clips are shuffled into groups of `group` clips and frames are shuffled
    within a group, so a batch mixes many clips while only about two groups of clips are
    in memory at once: memory is bounded by `group`, not by the dataset.
    """

    def __init__(self, clips: list[Clip], flow_root: str | Path, batch_size: int, stride: int = 1,
                 labels: str = "linear", shuffle: bool = False, seed: int = 0, group: int = 16) -> None:
        super().__init__(workers=1, use_multiprocessing=False)
        self.clips, self.root, self.batch_size, self.group = clips, Path(flow_root), batch_size, group
        self.shuffle, self.rng = shuffle, np.random.default_rng(seed)
        self.targets = [continuous_labels(c.onset, c.apex, c.offset, labels) for c in clips]
        self.frames = [np.arange(0, c.n_frames, stride) for c in clips]
        self.cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self.order = self._order()

    def _order(self) -> np.ndarray:
        clip_order = self.rng.permutation(len(self.clips)) if self.shuffle else np.arange(len(self.clips))
        parts = []
        for start in range(0, len(clip_order), self.group):
            items = np.array([(c, f) for c in clip_order[start:start + self.group] for f in self.frames[c]])
            parts.append(items[self.rng.permutation(len(items))] if self.shuffle else items)
        return np.concatenate(parts) if parts else np.zeros((0, 2), int)

    def on_epoch_end(self) -> None:
        if self.shuffle:
            self.order = self._order()

    def __len__(self) -> int:
        return math.ceil(len(self.order) / self.batch_size)

    def flow(self, index: int) -> np.ndarray:
        if index not in self.cache:
            self.cache[index] = arrayfiles.load(arrayfiles.clip_file(self.root, self.clips[index].clip_id))["flow"]
            while len(self.cache) > 2 * self.group:
                self.cache.popitem(last=False)
        return self.cache[index]

    def __getitem__(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        batch = self.order[i * self.batch_size:(i + 1) * self.batch_size]
        x = np.stack([self.flow(c)[f] for c, f in batch]).astype(np.float32)
        y = np.array([self.targets[c][f] for c, f in batch], np.float32)[:, None]
        return x, y


class FlowFramesInMemory(FlowFrames):
    """The same batches as FlowFrames (same order for the same seed), gathered from one
    float16 array holding every kept frame of the fold: one fancy-index per batch, no file
    reads and no Python loop over samples, so a GPU is not left waiting for its input."""

    def __init__(self, clips: list[Clip], flow_root: str | Path, batch_size: int, stride: int = 1,
                 labels: str = "linear", shuffle: bool = False, seed: int = 0, group: int = 16) -> None:
        super().__init__(clips, flow_root, batch_size, stride, labels, shuffle, seed, group)
        kept = [arrayfiles.load(arrayfiles.clip_file(self.root, c.clip_id))["flow"][self.frames[i]]
                for i, c in enumerate(clips)]
        self.stride = stride
        self.start = np.cumsum([0] + [len(k) for k in kept[:-1]])
        self.data = np.concatenate(kept).astype(np.float16, copy=False)
        self.y = np.concatenate([t[f] for t, f in zip(self.targets, self.frames)]).astype(np.float32)

    def __getitem__(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        batch = self.order[i * self.batch_size:(i + 1) * self.batch_size]
        rows = self.start[batch[:, 0]] + batch[:, 1] // self.stride
        return self.data[rows].astype(np.float32), self.y[rows][:, None]


def fold_bytes(clips: list[Clip], flow_root: str | Path, stride: int) -> int:
    """Memory the fold's kept frames take as float16 (the frame size read from one file)."""
    if not clips:
        return 0
    with np.load(arrayfiles.clip_file(flow_root, clips[0].clip_id), allow_pickle=False) as data:
        frame = int(np.prod(data["flow"].shape[1:]))
    return 2 * frame * sum(len(range(0, c.n_frames, stride)) for c in clips)


def memory_budget() -> int:
    """A quarter of this machine's memory: what a fold's frames may take in memory."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 4
    except (ValueError, OSError, AttributeError):  # not POSIX
        return 2 << 30


def frame_batches(clips: list[Clip], flow_root: str | Path, p: FrameTraining, shuffle: bool,
                  seed: int = 0) -> FlowFrames:
    """The fold's frames in memory when they fit (`train.loader: auto`), else streamed from disk."""
    use_memory = p.loader == "memory" or (
        p.loader == "auto" and fold_bytes(clips, flow_root, p.frame_stride) <= memory_budget())
    kind = FlowFramesInMemory if use_memory and clips else FlowFrames
    return kind(clips, flow_root, p.batch_size, p.frame_stride, p.labels, shuffle=shuffle, seed=seed)
