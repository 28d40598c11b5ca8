"""What training any spotter needs: precision, determinism, the device it ran on, and
dvclive logs (its Keras callback, or a logger of our own where TensorFlow is missing)."""

from __future__ import annotations

import platform
from typing import Any

import keras
import pandas as pd


def set_precision(mixed: bool) -> str:
    """Keras' global dtype policy for the models built after this call."""
    policy = "mixed_float16" if mixed else "float32"
    keras.mixed_precision.set_global_policy(policy)
    return policy


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

        info |= {"torch": str(torch.__version__),  # a TorchVersion object, not a str
                 "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU"}
    return info


def make_deterministic(seed: int) -> None:
    """Same seed, same weights on the CPU."""
    keras.utils.set_random_seed(seed)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
