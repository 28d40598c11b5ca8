"""The pictures a researcher reads after an evaluation (PNG, rendered by `dvc plots show`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

LABELS = {"model": "model", "centre": "centre of window", "prior": "prior median (training folds)",
          "max_flow": "max flow magnitude",
          "max_strain": "max strain (eyes masked)", "max_lbp": "max LBP distance"}


def _save(fig: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)


def pick_clips(predictions: pd.DataFrame) -> list[tuple[str, str]]:
    """(label, clip id) of the best, median and worst clip by the model's error."""
    ranked = predictions.sort_values(["error", "clip_id"]).reset_index(drop=True)
    picks = [("best", 0), ("median", len(ranked) // 2), ("worst", len(ranked) - 1)]
    return [(label, str(ranked.loc[i, "clip_id"])) for label, i in picks]


def score_curves(predictions: pd.DataFrame, scores: pd.DataFrame, path: Path) -> None:
    picks = pick_clips(predictions)
    fig, axes = plt.subplots(1, len(picks), figsize=(5 * len(picks), 3.5), squeeze=False)
    for ax, (label, clip) in zip(axes[0], picks):
        s = scores[scores["clip_id"] == clip]
        row = predictions[predictions["clip_id"] == clip].iloc[0]
        ax.plot(s["frame"], s["score"], label="predicted score")
        ax.plot(s["frame"], s["target"], "--", label="target")
        ax.axvline(row["apex"], color="green", label=f"true apex {row['apex']}")
        ax.axvline(row["model"], color="red", linestyle=":", label=f"predicted {row['model']}")
        ax.set_title(f"{label}: {clip} (error {row['error']})", fontsize=9)
        ax.set_xlabel("frame")
        ax.legend(fontsize=7)
    _save(fig, path)


def error_distribution(predictions: pd.DataFrame, predictors: list[str], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(7, 4))
    top = int(max(40, (predictions[predictors].sub(predictions["apex"], axis=0)).abs().max().max()))
    bins = np.arange(-top - 0.5, top + 1.5, 2)
    for name in predictors:
        ax.hist(predictions[name] - predictions["apex"], bins=bins, histtype="step", label=LABELS[name])
    ax.set_xlabel("predicted - true apex (frames)")
    ax.set_ylabel("clips")
    ax.legend(fontsize=8)
    _save(fig, path)


def attention_overlays(items: list[tuple[str, np.ndarray, np.ndarray | None]], path: Path) -> None:
    """(title, aligned apex frame, 2-D attention mask or None) per panel."""
    fig, axes = plt.subplots(1, len(items), figsize=(3.2 * len(items), 3.4), squeeze=False)
    for ax, (title, frame, mask) in zip(axes[0], items):
        ax.imshow(frame, cmap="gray")
        if mask is not None:
            up = cv2.resize(mask.astype(np.float32), frame.shape[::-1], interpolation=cv2.INTER_LINEAR)
            ax.imshow(up, cmap="jet", alpha=0.45)
        ax.set_title(title, fontsize=8)
        ax.axis("off")
    if all(mask is None for _, _, mask in items):
        fig.suptitle("this variant has no attention unit", fontsize=10)
    _save(fig, path)
