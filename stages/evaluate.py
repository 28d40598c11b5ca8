"""DVC stage evaluate: models + flow -> metrics/mae.json, metrics/predictions.csv, metrics/plots/."""

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from apexspot import clipfiles, plots
from apexspot.atomic import atomic_dir, write_csv, write_json
from apexspot.datasets.manifest import read_manifest
from apexspot.errors import ApexspotError
from apexspot.evaluation import PREDICTORS, SpotParams, model_scores, predict_clip, score_rows
from apexspot.metrics import report
from apexspot.model import attention_mask, load_model
from apexspot.params import load_params, section


def main() -> None:
    spot = SpotParams.from_params(section(load_params(), "spot"))
    clips = {c.clip_id: c for c in read_manifest("data/manifest.csv")}
    folds = json.loads(Path("data/folds.json").read_text())["folds"]
    rows, curves, models = [], [], {}
    for fold in folds:
        k = fold["fold"]
        models[k] = load_model(f"models/fold_{k}.keras")
        for clip_id in fold["clips"]:
            path = clipfiles.clip_file("data/flow", clip_id)
            if not path.exists():
                continue  # skipped upstream; listed in data/face_align_report.json or data/flow_report.json
            flow = clipfiles.load(path)
            aligned = clipfiles.load(clipfiles.clip_file("data/aligned", clip_id))
            scores = model_scores(models[k], flow["flow"])
            rows.append(predict_clip(clips[clip_id], k, scores, flow, aligned, spot))
            curves += score_rows(clips[clip_id], scores)
    if not rows:
        raise ApexspotError("no held-out clip has flow to evaluate")
    predictions = pd.DataFrame(rows)
    figures = report(predictions, list(PREDICTORS))
    write_json("metrics/mae.json", figures)
    write_csv("metrics/predictions.csv", predictions)
    write_csv("metrics/scores.csv", pd.DataFrame(curves))
    fold_of = predictions.set_index("clip")["fold"]
    with atomic_dir("metrics/plots") as out:
        plots.mae_per_fold(figures, list(PREDICTORS), out / "mae_per_fold.png")
        plots.score_curves(predictions, pd.DataFrame(curves), out / "score_curves.png")
        plots.error_distribution(predictions, list(PREDICTORS), out / "error_distribution.png")
        items = []
        for label, clip_id in plots.pick_clips(predictions):
            clip, aligned = clips[clip_id], clipfiles.load(clipfiles.clip_file("data/aligned", clip_id))
            flow = clipfiles.load(clipfiles.clip_file("data/flow", clip_id))["flow"]
            at = clip.apex - clip.onset
            mask = attention_mask(models[int(fold_of[clip_id])], flow[at:at + 1].astype(np.float32))
            items.append((f"{label}: {clip_id}\napex frame {clip.apex}", aligned["frames"][at], mask))
        plots.attention_overlays(items, out / "attention.png")
    print(f"evaluate: {len(predictions)} clips, spotting by {spot.method}")
    print(f"  {'predictor':<12}{'MAE':>7}{'median':>8}{'<=5':>7}{'<=10':>7}{'fold sd':>9}")
    for name in PREDICTORS:
        f = figures[name]
        print(f"  {name:<12}{f['mae']:>7.2f}{f['median_ae']:>8.1f}{f['within_5']:>7.2f}{f['within_10']:>7.2f}"
              f"{f['mae_fold_std']:>9.2f}")


if __name__ == "__main__":
    try:
        main()
    except ApexspotError as err:
        sys.exit(f"evaluate: error: {err}")
