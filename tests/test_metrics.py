"""The subject-level bootstrap behind every interval in metrics/mae.json."""

from __future__ import annotations

import numpy as np
import pandas as pd

from apexspot.clips.metrics import cluster_bootstrap, paired_difference, report


def table(rng: np.random.Generator, subjects: int = 12, clips: int = 5, model_gain: float = 0.0) -> pd.DataFrame:
    rows = []
    for s in range(subjects):
        for c in range(clips):
            apex = 100 + int(rng.integers(-20, 20))
            centre = apex + int(rng.integers(-12, 12))
            model = apex + int(np.round((centre - apex) * (1 - model_gain)))
            rows.append({"subject": f"s{s}", "fold": s % 3, "dataset": "synthetic", "apex": apex,
                         "centre": centre, "model": model})
    return pd.DataFrame(rows)


def test_identical_predictors_give_a_difference_interval_around_zero(rng: np.random.Generator) -> None:
    t = table(rng)
    t["model"] = t["centre"]
    d = report(t, ["model", "centre"])["diff"]
    assert d["ci_low"] <= 0 <= d["ci_high"] and d["verdict"] == "no significant difference"


def test_a_predictor_better_on_every_subject_is_significantly_better(rng: np.random.Generator) -> None:
    figures = report(table(rng, model_gain=0.6), ["model", "centre"])
    d = figures["diff"]
    assert d["ci_high"] < 0 and d["verdict"] == "better" and d["ratio"] < 0.6
    m = figures["model"]
    assert m["ci_low"] <= m["mae"] <= m["ci_high"]


def test_subjects_not_clips_are_resampled() -> None:
    # Two subjects: one with 9 clips of error 0, one with 1 clip of error 10. Resampling
    # subjects gives only three possible means (0, 1, 10 for {A,A}, {A,B}, {B,B}); resampling
    # clips would give many more.
    values = np.array([0.0] * 9 + [10.0])
    groups = np.array(["A"] * 9 + ["B"])
    means = cluster_bootstrap(values, groups, resamples=500, seed=1)[:, 0]
    assert set(np.round(means, 6)) <= {0.0, 1.0, 10.0}
    assert len(set(np.round(means, 6))) == 3


def test_fixed_seed_gives_the_same_interval(rng: np.random.Generator) -> None:
    t = table(rng)
    a = paired_difference(t["model"] - t["apex"], t["centre"] - t["apex"], t["subject"].to_numpy())
    b = paired_difference(t["model"] - t["apex"], t["centre"] - t["apex"], t["subject"].to_numpy())
    assert a == b


def test_compare_table_reads_a_base_kept_before_the_keys_were_renamed() -> None:
    from apexspot.clips.metrics import compare_table

    old = {"clips": 150, "model": {"mae": 5.04, "mae_ci_low": 4.26, "mae_ci_high": 5.97},
           "centre": {"mae": 9.1}, "model_minus_centre": {"mean": -4.06, "ci_low": -4.9, "ci_high": -3.25}}
    new = {"clips": 150, "model": {"mae": 4.39, "ci_low": 3.76, "ci_high": 5.14},
           "centre": {"mae": 9.1, "ci_low": 7.97, "ci_high": 10.29}, "diff": {"mean": -4.71, "ci_low": -5.56, "ci_high": -3.84}}
    rows = compare_table(old, new).splitlines()
    assert rows[3] == "| model MAE [95% CI] | 5.04 [4.26, 5.97] | 4.39 [3.76, 5.14] |"
    assert rows[4] == "| centre MAE [95% CI] | 9.10 | 9.10 [7.97, 10.29] |"
    assert rows[5] == "| model − centre [95% CI] | -4.06 [-4.90, -3.25] | -4.71 [-5.56, -3.84] |"
