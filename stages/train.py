"""DVC stage train: data/flow + data/folds.json -> models/fold_<k>.keras (+ .json); dvclive logs per fold
in metrics/train/, their mean summary in metrics/train.json, the loss curves in metrics/loss/fold_<k>.csv."""

import json
from pathlib import Path

import pandas as pd
import yaml
from dvclive import Live

from apexspot import config
from apexspot.datasets.manifest import read_manifest
from apexspot.errors import run_stage
from apexspot.evaluation import write_fold_record
from apexspot.files import fresh_dir, write_csv, write_json
from apexspot.model import build_model
from apexspot.temporal import ApexPrior, build_clip_model, train_clip_fold
from apexspot.training import (device_info, live_callback, live_summary, loss_table, make_deterministic, save_model,
                               set_precision, train_fold)


def main() -> None:
    params = config.load()
    p, variant, flow = params.train, params.selected_variant(), params.flow
    shape = (flow.size, flow.size, len(flow.channels))
    clips = {c.clip_id: c for c in read_manifest("data/manifest.csv")}
    folds = json.loads(Path("data/folds.json").read_text())["folds"]
    device = device_info() | {"precision": set_precision(p.mixed_precision)}
    print(f"train: variant {params.variant} ({variant.kind}) on {device['device']} ({device['backend']})")
    models, logs, losses = fresh_dir("models"), fresh_dir("metrics/train"), fresh_dir("metrics/loss")
    summaries = []
    for fold in folds:
        k = fold["fold"]
        held_out = [clips[i] for i in fold["clips"]]
        train = [clips[i] for other in folds if other is not fold for i in other["clips"]]
        make_deterministic(p.seed + k)
        with Live(dir=str(logs / f"fold_{k}"), save_dvc_exp=False, dvcyaml=False) as live:
            live.log_params({"fold": k, "variant": params.variant, **variant.model_dump(), **p.model_dump(), **device,
                             "train_clips": len(train), "held_out_clips": len(held_out)})
            print(f"fold {k}: {len(train)} training clips, {len(held_out)} held out")
            prior = None
            if variant.kind == "clip":
                prior = ApexPrior.fit(train) if variant.prior else None  # training folds only
                model = build_clip_model(variant, shape)
                history = train_clip_fold(model, train, held_out, "data/flow", variant, p, flow.channels, prior,
                                          [live_callback(live)])
            else:
                model = build_model(variant, shape)
                history = train_fold(model, train, held_out, "data/flow", p, live)
        summaries.append(json.loads((logs / f"fold_{k}" / "metrics.json").read_text()))
        write_csv(losses / f"fold_{k}.csv", pd.DataFrame(loss_table(history)))
        save_model(model, models / f"fold_{k}.keras")
        write_fold_record(models / f"fold_{k}.keras", variant, prior, flow.channels, train_clips=len(train))
    write_json("metrics/train.json", live_summary(summaries))
    # What `apexspot spot` needs to prepare a new recording exactly as the training data.
    (models / "params.yaml").write_text(yaml.safe_dump(
        {"face": params.face.model_dump(), "flow": params.flow.model_dump(), "spot": params.spot.model_dump(),
         "variant": params.variant, "variants": {params.variant: variant.model_dump()}}, sort_keys=False))


if __name__ == "__main__":
    run_stage("train", main)
