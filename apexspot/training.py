"""Training one fold: frames streamed from the flow files, continuous targets, dvclive logs.

The paper's settings are the reference (MSE, Adam, lr 1e-4, batch 128, 200 epochs); the
defaults in params.yaml are smaller so the synthetic pipeline runs in minutes on a CPU.
"""

from __future__ import annotations

import math
import os
import platform
import tempfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd

from apexspot import clipfiles
from apexspot.console import fit_verbosity
from apexspot.files import reproducible_zip
from apexspot.config import TrainParams
from apexspot.datasets.manifest import Clip
from apexspot.labels import continuous_labels


def set_precision(mixed: bool) -> str:
    """Keras' global dtype policy for the models built after this call."""
    policy = "mixed_float16" if mixed else "float32"
    keras.mixed_precision.set_global_policy(policy)
    return policy


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
            self.cache[index] = clipfiles.load(clipfiles.clip_file(self.root, self.clips[index].clip_id))["flow"]
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
        kept = [clipfiles.load(clipfiles.clip_file(self.root, c.clip_id))["flow"][self.frames[i]]
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
    with np.load(clipfiles.clip_file(flow_root, clips[0].clip_id), allow_pickle=False) as data:
        frame = int(np.prod(data["flow"].shape[1:]))
    return 2 * frame * sum(len(range(0, c.n_frames, stride)) for c in clips)


def memory_budget() -> int:
    """A quarter of this machine's memory: what a fold's frames may take in memory."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 4
    except (ValueError, OSError, AttributeError):  # not POSIX
        return 2 << 30


def frame_batches(clips: list[Clip], flow_root: str | Path, p: TrainParams, shuffle: bool) -> FlowFrames:
    """The fold's frames in memory when they fit (`train.loader: auto`), else streamed from disk."""
    use_memory = p.loader == "memory" or (
        p.loader == "auto" and fold_bytes(clips, flow_root, p.frame_stride) <= memory_budget())
    kind = FlowFramesInMemory if use_memory and clips else FlowFrames
    return kind(clips, flow_root, p.batch_size, p.frame_stride, p.labels, shuffle=shuffle, seed=p.seed)


def live_callback(live: Any) -> keras.callbacks.Callback:
    """dvclive's own Keras callback where TensorFlow is installed (it subclasses tf.keras's
    Callback, which is Keras 3's); on a machine with only JAX or PyTorch, `LiveLogger`."""
    try:
        from dvclive.keras import DVCLiveCallback
    except ImportError:
        return LiveLogger(live)
    return DVCLiveCallback(live=live)


def loss_table(history: keras.callbacks.History) -> list[dict[str, float]]:
    """Per epoch: the training and the held-out loss (one row per epoch, epochs from 1)."""
    logs = history.history
    return [{"epoch": i + 1, "train": float(train), **({"held_out": float(logs["val_loss"][i])} if "val_loss" in logs else {})}
            for i, train in enumerate(logs.get("loss", []))]


def live_summary(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """The mean over folds of each number in dvclive's per-fold summaries (metrics.json),
    keeping dvclive's names (train.loss, eval.loss...); `step` becomes `epochs`."""
    flat = pd.json_normalize(summaries, sep="/") if summaries else pd.DataFrame()
    mean: dict[str, Any] = {}
    for name, value in flat.drop(columns="step", errors="ignore").mean(numeric_only=True).sort_index().items():
        *parents, last = name.split("/")
        node = mean
        for parent in parents:
            node = node.setdefault(parent, {})
        node[last] = float(value)
    return mean | {"epochs": int(max((s.get("step", -1) for s in summaries), default=-1)) + 1, "folds": len(summaries)}


class LiveLogger(keras.callbacks.Callback):
    """Per-epoch losses to dvclive under dvclive's names, for backends without TensorFlow."""

    def __init__(self, live: Any) -> None:
        super().__init__()
        self.live = live

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        for name, value in (logs or {}).items():
            self.live.log_metric(f"eval/{name[4:]}" if name.startswith("val_") else f"train/{name}", float(value))
        self.live.next_step()


def device_info() -> dict[str, str]:
    """Backend, versions and the device training ran on, for the training log."""
    backend = keras.backend.backend()
    info = {"backend": backend, "keras": keras.__version__, "python": platform.python_version()}
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        info |= {"tensorflow": tf.__version__, "device": ", ".join(g.name for g in gpus) or "CPU"}
    elif backend == "jax":
        import jax

        info |= {"jax": jax.__version__, "device": ", ".join(str(d) for d in jax.devices())}
    elif backend == "torch":
        import torch

        info |= {"torch": torch.__version__,
                 "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU"}
    return info


def make_deterministic(seed: int) -> None:
    """Same seed, same weights on the CPU."""
    keras.utils.set_random_seed(seed)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def save_model(model: keras.Model, path: Path) -> None:
    """Weights and architecture only (no optimizer state: a third of the size), and bytes
    that depend only on them (no save date, fixed zip times), so DVC's hash of `models`
    changes only when the weights do."""
    bare = keras.models.clone_model(model)
    bare.set_weights(model.get_weights())
    with tempfile.TemporaryDirectory() as tmp:
        bare.save(Path(tmp) / "model.keras")
        data = (Path(tmp) / "model.keras").read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(reproducible_zip(data, {"metadata.json": [(rb'"date_saved": "[^"]*"', b'"date_saved": ""')]}))


def train_fold(model: keras.Model, train: list[Clip], held_out: list[Clip], flow_root: str | Path,
               p: TrainParams, live: Any) -> keras.callbacks.History:
    """Fit one fold's model; the held-out fold's loss is logged each epoch, never used to select."""
    batches = frame_batches(train, flow_root, p, shuffle=True)
    check = frame_batches(held_out, flow_root, p, shuffle=False)
    model.compile(optimizer=keras.optimizers.Adam(p.learning_rate), loss="mse", jit_compile=p.jit_compile)
    history = model.fit(batches, validation_data=check, epochs=p.epochs, callbacks=[live_callback(live)],
                        verbose=fit_verbosity())
    recalibrate_batchnorm(model, batches)
    return history


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
