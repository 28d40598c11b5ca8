"""DVC stage evaluate: models + flow -> metrics/mae.json (headline numbers), metrics/folds.json (MAE per
fold), metrics/*.csv (per clip, per fold, per dataset, per emotion; DVC plots), metrics/plots/ (pictures)."""

import numpy as np
import pandas as pd

from apexspot.clips import plots
from apexspot.clips.evaluation import PREDICTORS, predict_clip, score_rows
from apexspot.clips.manifest import read_manifest
from apexspot.clips.metrics import RESAMPLES, fold_metrics, group_table, report
from apexspot.clips.model import attention_mask, has_attention
from apexspot.clips.spotters.clip.prior import ApexPrior
from apexspot.clips.trained import TrainedFold
from apexspot.core import arrayfiles, config
from apexspot.core.console import progress
from apexspot.core.errors import ApexspotError, run_stage
from apexspot.core.files import fresh_dir, write_csv, write_json
from apexspot.core.folds import read_folds


def main() -> None:
    params = config.load()
    method, window = params.spot.method, params.spot.window
    clips = {c.clip_id: c for c in read_manifest("data/manifest.csv")}
    folds = read_folds("data/folds.json", clips)
    rows, curves, models = [], [], {}
    bar = progress(total=sum(len(f["clips"]) for f in folds), desc="evaluate", unit="clip")
    for fold in folds:
        k = fold["fold"]
        models[k] = TrainedFold.load(f"models/fold_{k}.keras")
        # The prior-only baseline: fitted on this fold's training clips, as the clip model's.
        prior = ApexPrior.fit([clips[i] for other in folds if other is not fold for i in other["clips"]])
        for clip_id in fold["clips"]:
            clip = clips[clip_id]
            flow = arrayfiles.load(arrayfiles.clip_file("data/flow", clip_id))
            aligned = arrayfiles.load(arrayfiles.clip_file("data/aligned", clip_id))
            scores = models[k].scores(flow["flow"])
            rows.append(predict_clip(clip, k, scores, flow, aligned, method, window, prior, params.flow))
            curves += score_rows(clip, scores)
            bar.update()
    bar.close()
    if not rows:
        raise ApexspotError("no held-out clip to evaluate (data/folds.json is empty)")
    predictions = pd.DataFrame(rows)
    figures = report(predictions, list(PREDICTORS))
    tables = {"fold": group_table(predictions, list(PREDICTORS), ["fold"]),
              "dataset": group_table(predictions, list(PREDICTORS), ["dataset"], intervals=True),
              "emotion": group_table(predictions.assign(group=predictions["dataset"] + ": " + predictions["emotion"]),
                                     list(PREDICTORS), ["group", "dataset", "emotion"])}
    write_json("metrics/mae.json", figures)
    write_json("metrics/folds.json", fold_metrics(tables["fold"]))
    write_csv("metrics/predictions.csv", predictions)
    write_csv("metrics/scores.csv", pd.DataFrame(curves))
    for name, table in tables.items():
        write_csv(f"metrics/mae_per_{name}.csv", table)
    fold_of = predictions.set_index("clip_id")["fold"]
    out = fresh_dir("metrics/plots")
    plots.score_curves(predictions, pd.DataFrame(curves), out / "score_curves.png")
    plots.error_distribution(predictions, list(PREDICTORS), out / "error_distribution.png")
    if has_attention(models[0].model):
        items = []
        for label, clip_id in plots.pick_clips(predictions):
            clip, aligned = clips[clip_id], arrayfiles.load(arrayfiles.clip_file("data/aligned", clip_id))
            flow = arrayfiles.load(arrayfiles.clip_file("data/flow", clip_id))["flow"]
            at = clip.apex - clip.onset
            mask = attention_mask(models[int(fold_of[clip_id])].model, flow[at:at + 1].astype(np.float32))
            items.append((f"{label}: {clip_id}\napex frame {clip.apex}", aligned["frames"][at], mask))
        plots.attention_overlays(items, out / "attention.png")
    print(summary(figures, tables, method))


def summary(figures: dict, tables: dict[str, pd.DataFrame], method: str) -> str:
    """The console report: every predictor's MAE with its 95% interval, the model against the
    centre, and the model's MAE per dataset and per emotion with clip counts."""
    lines = [f"evaluate: {figures['clips']} clips, {figures['subjects']} subjects, spotting by {method}; "
             f"95% intervals from {RESAMPLES} subject-level bootstrap resamples",
             f"  {'predictor':<12}{'MAE':>7}{'95% CI':>16}"]
    for name in PREDICTORS:
        f = figures[name]
        ci = f"[{f['ci_low']:.2f}, {f['ci_high']:.2f}]"
        lines.append(f"  {name:<12}{f['mae']:>7.2f}{ci:>16}")
    m, d = figures["model"], figures["diff"]
    lines.append(f"  model: median error {m['median_ae']:.1f}, {m['within_5']:.0%} of clips within 5 frames, "
                 f"{m['within_10']:.0%} within 10")
    lines.append(f"  model - centre: {d['mean']:+.2f} frames per clip, 95% CI [{d['ci_low']:+.2f}, {d['ci_high']:+.2f}] "
                 f"({d['verdict']}; MAE ratio {d['ratio']:.2f})")
    for t in tables["dataset"].itertuples():
        lines.append(f"  {t.dataset}: {t.clips} clips, model {t.model:.2f} [{t.model_ci_low:.2f}, {t.model_ci_high:.2f}], "
                     f"centre {t.centre:.2f}, model - centre {t.model_minus_centre:+.2f} "
                     f"[{t.model_minus_centre_ci_low:+.2f}, {t.model_minus_centre_ci_high:+.2f}]")
    emotions = ", ".join(f"{t.group} {t.model:.2f} ({t.clips})" for t in tables["emotion"].itertuples())
    lines.append(f"  model MAE per emotion (clips): {emotions}")
    return "\n".join(lines)


if __name__ == "__main__":
    run_stage("evaluate", main)
