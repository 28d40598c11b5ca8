"""Apex-spotting errors in frames: MAE and friends, with subject-level bootstrap intervals.

Clips of one subject are not independent (one face, one session, one coder), so intervals
resample subjects with replacement and take all their clips (a cluster bootstrap), with a
fixed seed. The model is compared with the centre-of-window predictor on the same clips:
the paired difference (model error - centre error per clip) and its interval; an interval
that contains 0 is not an improvement.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from apexspot.core.bootstrap import interval, resampled_sums

RESAMPLES = 2000
SEED = 0


def summary(errors: np.ndarray) -> dict[str, float]:
    """MAE, median absolute error and the shares of clips within 5 and 10 frames."""
    e = np.abs(np.asarray(errors, dtype=np.float64))
    if e.size == 0:
        raise ValueError("no clips to score")
    return {"mae": float(e.mean()), "median_ae": float(np.median(e)),
            "within_5": float(np.mean(e <= 5)), "within_10": float(np.mean(e <= 10))}


def cluster_bootstrap(values: np.ndarray, groups: np.ndarray, resamples: int = RESAMPLES,
                      seed: int = SEED) -> np.ndarray:
    """Means of `values` (clips x columns) over `resamples` resamplings of whole groups
    (apexspot.core.bootstrap): resamples x columns."""
    values = np.asarray(values, np.float64)
    values = values[:, None] if values.ndim == 1 else values
    names, index = np.unique(np.asarray(groups), return_inverse=True)
    sums = np.zeros((len(names), values.shape[1] + 1))
    np.add.at(sums[:, :-1], index, values)
    sums[:, -1] = np.bincount(index, minlength=len(names))
    drawn = resampled_sums(sums, resamples, seed)
    return drawn[:, :-1] / drawn[:, -1:]


def report(table: pd.DataFrame, predictors: list[str], unit: str = "subject", reference: str = "centre",
           resamples: int = RESAMPLES, seed: int = SEED) -> dict[str, Any]:
    """The headline numbers (metrics/mae.json): every predictor on exactly the same clips,
    with 95% intervals, and the model's paired difference from the reference.

    `table` has one row per clip: apex, the resampling `unit` and one predicted-apex column
    per predictor. Only the model gets median and within-5/10 (the baselines' are in the
    per-group tables); per-fold, per-dataset and per-emotion figures are in `group_table`.
    """
    errors = pd.DataFrame({name: (table[name] - table["apex"]).abs() for name in predictors})
    groups = table[unit].to_numpy()
    boot = cluster_bootstrap(errors.to_numpy(), groups, resamples, seed)
    out: dict[str, Any] = {}
    for i, name in enumerate(predictors):
        low, high = interval(boot[:, i])
        figures = summary(errors[name].to_numpy())
        out[name] = {"mae": figures["mae"], "ci_low": low, "ci_high": high}
        if name == "model":
            out[name] |= {k: figures[k] for k in ("median_ae", "within_5", "within_10")}
            if reference in predictors:
                out["diff"] = paired_difference(errors["model"], errors[reference], groups, resamples, seed)
    out |= {"clips": int(len(table)), f"{unit}s": int(table[unit].nunique())}
    return out


def group_table(table: pd.DataFrame, predictors: list[str], by: list[str], unit: str = "subject",
                intervals: bool = False) -> pd.DataFrame:
    """One row per group (fold, dataset, emotion...): clip and subject counts and each
    predictor's MAE; with `intervals`, also the model's and the centre's 95% intervals and
    the paired difference (for groups big enough to have subjects to resample)."""
    rows = []
    for key, part in table.groupby(by, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        row: dict[str, Any] = dict(zip(by, key)) | {"clips": len(part), f"{unit}s": part[unit].nunique()}
        row |= {name: float((part[name] - part["apex"]).abs().mean()) for name in predictors}
        if intervals:
            figures = report(part, ["model", "centre"], unit)
            for name in ("model", "centre"):
                row |= {f"{name}_ci_low": figures[name]["ci_low"], f"{name}_ci_high": figures[name]["ci_high"]}
            d = figures["diff"]
            row |= {"model_minus_centre": d["mean"], "model_minus_centre_ci_low": d["ci_low"],
                    "model_minus_centre_ci_high": d["ci_high"]}
        rows.append(row)
    return pd.DataFrame(rows)


def fold_metrics(per_fold: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """metrics/folds.json: per fold the model's and the centre's MAE and the clip count, one
    flat key per fold so `dvc exp show` and `dvc metrics diff` can show them."""
    return {f"fold_{int(r.fold)}": {"model": float(r.model), "centre": float(r.centre), "clips": int(r.clips)}
            for r in per_fold.itertuples()}


def paired_difference(model: pd.Series, reference: pd.Series, groups: np.ndarray,
                      resamples: int = RESAMPLES, seed: int = SEED) -> dict[str, Any]:
    """Mean of (model error - reference error) over clips, its interval, and the verdict."""
    diff = (np.asarray(model, np.float64) - np.asarray(reference, np.float64))
    low, high = interval(cluster_bootstrap(diff, groups, resamples, seed)[:, 0])
    verdict = "better" if high < 0 else "worse" if low > 0 else "no significant difference"
    return {"mean": float(diff.mean()), "ci_low": low, "ci_high": high,
            "ratio": float(np.mean(model) / max(np.mean(reference), 1e-9)), "verdict": verdict}


def compare_table(base: dict[str, Any], new: dict[str, Any], predictors: tuple[str, ...] = ("model", "centre")) -> str:
    """Markdown: the headline numbers of two metrics/mae.json files side by side (the CI
    report: a branch's run against main's run on the same runner and data)."""
    def cell(m: dict[str, Any], name: str) -> str:
        p = m.get(name)
        if not isinstance(p, dict) or "mae" not in p:
            return "—"
        # Files written before the interval keys were renamed (mae_ci_low) still show their MAE.
        low, high = p.get("ci_low", p.get("mae_ci_low")), p.get("ci_high", p.get("mae_ci_high"))
        return f"{p['mae']:.2f} [{low:.2f}, {high:.2f}]" if low is not None and high is not None else f"{p['mae']:.2f}"

    def difference(m: dict[str, Any]) -> str:
        d = m.get("diff", m.get("model_minus_centre"))
        return f"{d['mean']:+.2f} [{d['ci_low']:+.2f}, {d['ci_high']:+.2f}]" if isinstance(d, dict) else "—"

    rows = ["| | base | this run |", "|---|---|---|", f"| clips | {base.get('clips', '—')} | {new.get('clips', '—')} |"]
    rows += [f"| {name} MAE [95% CI] | {cell(base, name)} | {cell(new, name)} |" for name in predictors]
    rows.append(f"| model − centre [95% CI] | {difference(base)} | {difference(new)} |")
    return "\n".join(rows)
