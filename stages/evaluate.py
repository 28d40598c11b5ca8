"""DVC stage evaluate: models + flow -> metrics/mae.json, metrics/predictions.csv, metrics/plots/."""

import json
from pathlib import Path

import numpy as np
import pandas as pd

from apexspot import clipfiles, config, plots
from apexspot.datasets.manifest import read_manifest
from apexspot.errors import ApexspotError, run_stage
from apexspot.evaluation import PREDICTORS, FoldModel, predict_clip, score_rows
from apexspot.files import fresh_dir, write_csv, write_json
from apexspot.metrics import by_dataset, report
from apexspot.model import attention_mask
from apexspot.temporal import ApexPrior


def main() -> None:
    params = config.load()
    method, window = params.spot.method, params.spot.window
    clips = {c.clip_id: c for c in read_manifest("data/manifest.csv")}
    folds = json.loads(Path("data/folds.json").read_text())["folds"]
    rows, curves, models = [], [], {}
    for fold in folds:
        k = fold["fold"]
        models[k] = FoldModel.load(f"models/fold_{k}.keras")
        # The prior-only baseline: fitted on this fold's training clips, as the clip model's.
        prior = ApexPrior.fit([clips[i] for other in folds if other is not fold for i in other["clips"]])
        for clip_id in fold["clips"]:
            clip = clips[clip_id]
            flow = clipfiles.load(clipfiles.clip_file("data/flow", clip_id))
            aligned = clipfiles.load(clipfiles.clip_file("data/aligned", clip_id))
            scores = models[k].scores(flow["flow"])
            rows.append(predict_clip(clip, k, scores, flow, aligned, method, window, prior))
            curves += score_rows(clip, scores)
    if not rows:
        raise ApexspotError("no held-out clip to evaluate (data/folds.json is empty)")
    predictions = pd.DataFrame(rows)
    figures = report(predictions, list(PREDICTORS))
    if predictions["dataset"].nunique() > 1:
        figures["per_dataset"] = by_dataset(predictions, list(PREDICTORS))
    write_json("metrics/mae.json", figures)
    write_csv("metrics/predictions.csv", predictions)
    write_csv("metrics/scores.csv", pd.DataFrame(curves))
    fold_of = predictions.set_index("clip_id")["fold"]
    out = fresh_dir("metrics/plots")
    plots.mae_per_fold(figures, list(PREDICTORS), out / "mae_per_fold.png")
    plots.score_curves(predictions, pd.DataFrame(curves), out / "score_curves.png")
    plots.error_distribution(predictions, list(PREDICTORS), out / "error_distribution.png")
    if models[0].variant.kind == "frame":
        items = []
        for label, clip_id in plots.pick_clips(predictions):
            clip, aligned = clips[clip_id], clipfiles.load(clipfiles.clip_file("data/aligned", clip_id))
            flow = clipfiles.load(clipfiles.clip_file("data/flow", clip_id))["flow"]
            at = clip.apex - clip.onset
            mask = attention_mask(models[int(fold_of[clip_id])].model, flow[at:at + 1].astype(np.float32))
            items.append((f"{label}: {clip_id}\napex frame {clip.apex}", aligned["frames"][at], mask))
        plots.attention_overlays(items, out / "attention.png")
    print(summary(figures, len(predictions), method))


def summary(figures: dict, clips: int, method: str) -> str:
    """The console table: every predictor's MAE with its 95% interval, and the model vs the centre."""
    lines = [f"evaluate: {clips} clips, {figures['subjects']} subjects, spotting by {method}; 95% intervals "
             f"from {figures['bootstrap']['resamples']} subject-level bootstrap resamples",
             f"  {'predictor':<12}{'MAE':>7}{'95% CI':>16}{'median':>8}{'<=5':>7}{'<=10':>7}{'fold sd':>9}"]
    for name in PREDICTORS:
        f = figures[name]
        ci = f"[{f['mae_ci_low']:.2f}, {f['mae_ci_high']:.2f}]"
        lines.append(f"  {name:<12}{f['mae']:>7.2f}{ci:>16}{f['median_ae']:>8.1f}{f['within_5']:>7.2f}"
                     f"{f['within_10']:>7.2f}{f['mae_fold_std']:>9.2f}")
    d = figures["model_minus_centre"]
    lines.append(f"  model - centre: {d['mean']:+.2f} frames per clip, 95% CI [{d['ci_low']:+.2f}, {d['ci_high']:+.2f}] "
                 f"({d['verdict']}; MAE ratio {d['ratio']:.2f})")
    return "\n".join(lines)


if __name__ == "__main__":
    run_stage("evaluate", main)
