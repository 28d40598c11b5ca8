"""DVC stage recognise: flow + folds + the spotted apexes (metrics/predictions.csv) -> recognisers/
(our classifier per fold, for `apexspot spot`), metrics/recognition.json (UF1, UAR, differences),
metrics/recognition_*.csv (per clip for the confusion matrix plot, per dataset) and
metrics/recognition_report.json (the clips whose emotion the scheme leaves out, with sheet and row)."""

import time

import pandas as pd

from apexspot.clips.manifest import read_manifest
from apexspot.core import arrayfiles, config
from apexspot.core.console import progress
from apexspot.core.errors import ApexspotError, run_stage
from apexspot.core.files import fresh_dir, write_csv, write_json
from apexspot.core.folds import read_folds
from apexspot.core.training import make_deterministic
from apexspot.recognition import clips as rc
from apexspot.recognition.classes import CLASSES
from apexspot.recognition.recogniser import Recogniser

RESAMPLES = 1000


def main() -> None:
    start = time.perf_counter()
    params = config.load()
    p = params.recognition
    classes = CLASSES[p.scheme]
    clips = {c.clip_id: c for c in read_manifest("data/manifest.csv")}
    folds = read_folds("data/folds.json", clips)
    predictions = pd.read_csv("metrics/predictions.csv", dtype={"clip_id": str}, keep_default_na=False)
    spotted = dict(zip(predictions["clip_id"], predictions["model"].astype(int)))
    used = [clips[i] for f in folds for i in f["clips"]]
    missing = [c.clip_id for c in used if c.clip_id not in spotted]
    if missing:
        raise ApexspotError(f"metrics/predictions.csv has no spotted apex for {len(missing)} clip(s) of data/folds.json "
                            f"(first: {missing[0]}); rerun evaluate")
    truth, left_out = rc.labels(used, p.scheme)
    flows, channels = {}, None
    for clip in progress(used, desc="recognise: read flow", unit="clip"):
        data = arrayfiles.load(arrayfiles.clip_file("data/flow", clip.clip_id))
        channels = [str(c) for c in data["channels"]]
        flows[clip.clip_id] = rc.clip_flow(data["flow"], clip, spotted[clip.clip_id], p.jitter)
    make_deterministic(p.seed)
    out = fresh_dir("recognisers")
    rows, untrained = [], []
    for fold in progress(folds, desc="recognise: train", unit="fold"):
        k = fold["fold"]
        train = [(flows[i], classes.index(truth[i])) for other in folds if other is not fold
                 for i in other["clips"] if i in truth]
        trained, majority = None, ""
        if train:
            trained = rc.train_fold(train, channels, classes, p, p.seed + k)
            Recogniser(trained[0], classes, p.scheme, "flow").save(out / f"fold_{k}.keras", fold=k, channels=channels,
                                                                  training_clips=len(train))
            majority = rc.majority_class([classes[label] for _, label in train])
        else:
            untrained.append({"fold": k, "clips": len(fold["clips"]),
                              "reason": f"no training clip of this fold has an emotion the {p.scheme} scheme maps"})
        rows += rc.held_out_rows([clips[i] for i in fold["clips"]], flows, spotted, k, truth, trained, majority,
                                 channels, classes)
    table = pd.DataFrame(rows)
    figures = rc.headline(table, classes, RESAMPLES, p.seed)
    write_json("metrics/recognition.json", figures)
    write_csv("metrics/recognition_predictions.csv", table)
    write_csv("metrics/recognition_per_dataset.csv", rc.per_dataset(table, classes, RESAMPLES, p.seed))
    write_json("metrics/recognition_report.json", {"scheme": p.scheme, "classes": list(classes),
                                                   "left_out": left_out, "folds_not_trained": untrained})
    print(rc.summary(figures, p.scheme, classes, len(left_out), len(folds), time.perf_counter() - start))
    print(rc.left_out_lines(left_out))
    for f in untrained:
        print(f"  fold {f['fold']}: {f['reason']}; its {f['clips']} clip(s) are not classified")


if __name__ == "__main__":
    run_stage("recognise", main)
