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
    """The best, median and worst clip: the model's score over the window on its own axis
    (a posterior peaks at a few hundredths, a regression score near 1), the paper's
    continuous target on a second axis, and both apexes."""
    picks = pick_clips(predictions)
    fig, axes = plt.subplots(1, len(picks), figsize=(5.4 * len(picks), 3.6), squeeze=False)
    for ax, (label, clip) in zip(axes[0], picks):
        s = scores[scores["clip_id"] == clip]
        row = predictions[predictions["clip_id"] == clip].iloc[0]
        ax.plot(s["frame"], s["score"], color="tab:blue", label="model score")
        ax.set_ylabel("model score (posterior: P(apex = frame))", color="tab:blue", fontsize=8)
        ax.set_ylim(0, float(s["score"].max()) * 1.15 or 1)
        target = ax.twinx()
        target.plot(s["frame"], s["target"], "--", color="tab:orange", label="target")
        target.set_ylim(0, 1.15)
        target.set_ylabel("continuous target (0 onset/offset, 1 apex)", color="tab:orange", fontsize=8)
        ax.axvline(row["apex"], color="green", label=f"coded apex {row['apex']}")
        ax.axvline(row["model"], color="red", linestyle=":", label=f"spotted {row['model']}")
        ax.set_title(f"{label}: {clip} (error {row['error']} frames)", fontsize=9)
        ax.set_xlabel("frame")
        lines = ax.get_legend_handles_labels()
        more = target.get_legend_handles_labels()
        ax.legend(lines[0] + more[0], lines[1] + more[1], fontsize=7, loc="upper left")
    fig.tight_layout()
    _save(fig, path)


def error_distribution(predictions: pd.DataFrame, predictors: list[str], path: Path) -> None:
    """One histogram of spotted − coded apex per predictor, on shared axes, each titled with
    its MAE: six outlines on one axis cannot be read apart."""
    errors = predictions[predictors].sub(predictions["apex"], axis=0)
    top = int(max(40, errors.abs().max().max()))
    bins = np.arange(-top - 0.5, top + 1.5, 2)
    columns = 3
    rows = -(-len(predictors) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 2.6 * rows), sharex=True, sharey=True,
                             squeeze=False)
    for ax, name in zip(axes.flat, predictors):
        ax.hist(errors[name], bins=bins, color="tab:blue" if name == "model" else "tab:grey")
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_title(f"{LABELS[name]}: MAE {errors[name].abs().mean():.2f}", fontsize=9)
    for ax in axes.flat[len(predictors):]:
        ax.axis("off")
    for ax in axes[-1]:
        ax.set_xlabel("spotted − coded apex (frames)")
    for ax in axes[:, 0]:
        ax.set_ylabel("clips")
    fig.suptitle(f"Apex errors of every predictor on the same {len(predictions)} held-out clips", fontsize=10)
    fig.tight_layout()
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
