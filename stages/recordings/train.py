"""DVC stage recordings/train: flow + folds -> recordings/models/fold_<k>.keras (+ .json: fitted thresholds);
dvclive logs per fold in metrics/recordings/train/, the loss curves in metrics/recordings/loss/fold_<k>.csv."""

import json

import numpy as np
import pandas as pd
import yaml
from dvclive import Live

from apexspot.core import config
from apexspot.core.errors import run_stage
from apexspot.core.files import fresh_dir, write_csv, write_json
from apexspot.core.folds import read_folds
from apexspot.core.training import device_info, live_callback, live_summary, loss_table, make_deterministic
from apexspot.recordings import sequences
from apexspot.recordings.recording import read_intervals, read_recordings
from apexspot.recordings.spotter import IntervalSpotter, save


def main() -> None:
    params = config.load()
    p = params.recordings
    recordings = {r.recording_id: r for r in read_recordings("data/recordings/recordings.csv")}
    folds = read_folds("data/recordings/folds.json", recordings)
    used = [recordings[i] for f in folds for i in f["clips"]]
    seqs = {s.recording_id: s for s in sequences.read_all(used, read_intervals("data/recordings/intervals.csv"),
                                                         "data/recordings/flow")}
    device = device_info()
    print(f"recordings/train: interval spotter on {device['device']} ({device['backend']})")
    models, logs, losses = fresh_dir("recordings/models"), fresh_dir("metrics/recordings/train"), fresh_dir(
        "metrics/recordings/loss")
    summaries = []
    for fold in folds:
        k = fold["fold"]
        held_out = [seqs[i] for i in fold["clips"]]
        train = [seqs[i] for other in folds if other is not fold for i in other["clips"]]
        make_deterministic(p.train.seed + k)
        spotter = IntervalSpotter(p.spotter)
        with Live(dir=str(logs / f"fold_{k}"), save_dvc_exp=False, dvcyaml=False) as live:
            live.log_params({"spotter": p.spotter.model_dump(), "train": p.train.model_dump(), "fold": k,
                             "train_recordings": len(train), "held_out_recordings": len(held_out)})
            model = spotter.build(train[0].inputs(np.array([0])).shape[1])
            history = spotter.fit(model, train, held_out, p.train, [live_callback(live)])
        summaries.append(json.loads((logs / f"fold_{k}" / "metrics.json").read_text()))
        write_csv(losses / f"fold_{k}.csv", pd.DataFrame(loss_table(history)))
        save(model, spotter, models / f"fold_{k}.keras", fold=k, train_recordings=len(train))
        print(f"fold {k}: {len(train)} training recordings, {len(held_out)} held out; thresholds {spotter.thresholds}, "
              f"shortest interval {spotter.min_s} s")
    write_json("metrics/recordings/train.json", live_summary(summaries))
    # What `apexspot spot` needs to prepare a new recording exactly as the training data.
    (models / "params.yaml").write_text(yaml.safe_dump(
        {"face": params.face.model_dump(), "recordings": {"track": p.track.model_dump(), "flow": p.flow.model_dump(),
                                                          "spotter": p.spotter.model_dump()}}, sort_keys=False))
    write_json(models / "environment.json", device)  # cached with the models: not a change in git elsewhere


if __name__ == "__main__":
    run_stage("recordings/train", main)
