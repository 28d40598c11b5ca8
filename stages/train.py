"""DVC stage train: data/flow + data/folds.json -> models/fold_<k>.keras (+ .json); dvclive logs per fold
in metrics/train/, their mean summary in metrics/train.json, the loss curves in metrics/loss/fold_<k>.csv."""

import json

import pandas as pd
import yaml
from dvclive import Live

from apexspot.clips.manifest import read_manifest
from apexspot.clips.spotters import spotter
from apexspot.clips.trained import TrainedFold
from apexspot.core import config
from apexspot.core.errors import run_stage
from apexspot.core.files import fresh_dir, write_csv, write_json
from apexspot.core.folds import read_folds
from apexspot.core.training import (device_info, live_callback, live_summary,
                                    loss_table, make_deterministic, set_precision)


def main() -> None:
    params = config.load()
    p, variant, flow = params.train, params.selected_variant(), params.flow
    shape = (flow.size, flow.size, len(flow.channels))
    clips = {c.clip_id: c for c in read_manifest("data/manifest.csv")}
    folds = read_folds("data/folds.json", clips)
    device = device_info() | {"precision": set_precision(p.mixed_precision)}
    ran_with = {"variant": params.variant, "variants": {params.variant: variant.model_dump()},
                "train": p.applied(variant.kind)}
    print(f"train: variant {params.variant} ({variant.kind}) on {device['device']} ({device['backend']})")
    models, logs, losses = fresh_dir("models"), fresh_dir("metrics/train"), fresh_dir("metrics/loss")
    summaries = []
    for fold in folds:
        k = fold["fold"]
        held_out = [clips[i] for i in fold["clips"]]
        train = [clips[i] for other in folds if other is not fold for i in other["clips"]]
        make_deterministic(p.seed + k)
        fold_spotter = spotter(variant, flow.channels)
        with Live(dir=str(logs / f"fold_{k}"), save_dvc_exp=False, dvcyaml=False) as live:
            live.log_params({**ran_with, "fold": k, "train_clips": len(train), "held_out_clips": len(held_out)})
            print(f"fold {k}: {len(train)} training clips, {len(held_out)} held out")
            model = fold_spotter.build(shape)
            history = fold_spotter.fit(model, train, held_out, "data/flow", p, [live_callback(live)])
        summaries.append(json.loads((logs / f"fold_{k}" / "metrics.json").read_text()))
        write_csv(losses / f"fold_{k}.csv", pd.DataFrame(loss_table(history)))
        TrainedFold(model, fold_spotter).save(models / f"fold_{k}.keras", train_clips=len(train))
    write_json("metrics/train.json", live_summary(summaries))
    # What `apexspot spot` needs to prepare a new recording exactly as the training data (it
    # follows the face with the long-recording follower), and what the models were trained on:
    # beside the models, which DVC caches, not in git, where another machine's versions would
    # show as a change.
    (models / "params.yaml").write_text(yaml.safe_dump(
        {"face": params.face.model_dump(), "flow": params.flow.model_dump(), "spot": params.spot.model_dump(),
         "recordings": {"track": params.recordings.track.model_dump()}, **ran_with}, sort_keys=False))
    write_json(models / "environment.json", device)


if __name__ == "__main__":
    run_stage("train", main)
