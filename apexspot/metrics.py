"""Apex-spotting errors in frames: MAE and friends, overall, per fold and per dataset."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def summary(errors: np.ndarray) -> dict[str, float]:
    """MAE, median absolute error and the shares of clips within 5 and 10 frames."""
    e = np.abs(np.asarray(errors, dtype=np.float64))
    if e.size == 0:
        raise ValueError("no clips to score")
    return {"mae": float(e.mean()), "median_ae": float(np.median(e)),
            "within_5": float(np.mean(e <= 5)), "within_10": float(np.mean(e <= 10))}


def report(table: pd.DataFrame, predictors: list[str]) -> dict[str, Any]:
    """Every figure for every predictor on exactly the same clips.

    `table` has one row per clip with columns apex, fold, dataset and one predicted-apex
    column per predictor. The std is that of the per-fold MAEs.
    """
    out: dict[str, Any] = {"clips": int(len(table))}
    for name in predictors:
        error = (table[name] - table["apex"]).abs()
        per_fold = {str(k): float(v) for k, v in error.groupby(table["fold"]).mean().items()}
        per_dataset = {str(k): float(v) for k, v in error.groupby(table["dataset"]).mean().items()}
        out[name] = {**summary(error.to_numpy()),
                     "mae_fold_std": float(np.std(list(per_fold.values()))),
                     "mae_per_fold": per_fold, "mae_per_dataset": per_dataset}
    return out
