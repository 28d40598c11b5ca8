"""DVC stage recordings/evaluate: models + flow -> metrics/recordings/f1.json (headline, micro F1 first),
metrics/recordings/*.csv (per recording, fold and dataset; every spotted and coded interval for the timeline plot)."""

import pandas as pd

from apexspot.core import config
from apexspot.core.errors import ApexspotError, run_stage
from apexspot.core.files import write_csv, write_json
from apexspot.core.folds import read_folds
from apexspot.recordings import evaluation, sequences
from apexspot.recordings.baselines import PeakBaseline
from apexspot.recordings.recording import read_intervals, read_recordings
from apexspot.recordings.spotter import load


def main() -> None:
    p = config.load().recordings
    recordings = {r.recording_id: r for r in read_recordings("data/recordings/recordings.csv")}
    folds = read_folds("data/recordings/folds.json", recordings)
    used = [recordings[i] for f in folds for i in f["clips"]]
    seqs = {s.recording_id: s for s in sequences.read_all(used, read_intervals("data/recordings/intervals.csv"),
                                                         "data/recordings/flow")}
    per = {m: {} for m in evaluation.METHODS}
    rows, info = [], {}
    for fold in folds:
        k = fold["fold"]
        model, spotter = load(f"recordings/models/fold_{k}.keras")
        baseline = PeakBaseline().fit([seqs[i] for other in folds if other is not fold for i in other["clips"]])
        for rid in fold["clips"]:
            seq = seqs[rid]
            positions, probs = spotter.score(model, seq)
            found = {"model": spotter.intervals(positions, probs, seq), "flow_peaks": baseline.spot(seq)}
            for method, spotted in found.items():
                per[method][rid] = evaluation.counts_of(seq, spotted)
                rows += evaluation.matched_rows(seq, k, method, spotted)
            rows += evaluation.coded_rows(seq, k)
            info[rid] = {"recording": rid, "subject": seq.subject, "dataset": seq.dataset, "fold": k,
                         "frames": seq.frames, "usable": round(float(seq.usable.mean()), 4)}
    if not info:
        raise ApexspotError("no held-out recording to evaluate (data/recordings/folds.json is empty)")
    intervals = pd.DataFrame(rows)
    subjects = {rid: i["subject"] for rid, i in info.items()}
    figures = evaluation.headline(per, subjects, evaluation.apex_error(intervals, p.bootstrap, 0), p.bootstrap, 0)
    by_dataset = evaluation.table(per, {rid: i["dataset"] for rid, i in info.items()}, "dataset")
    write_json("metrics/recordings/f1.json", figures)
    write_csv("metrics/recordings/intervals.csv", intervals)
    write_csv("metrics/recordings/per_recording.csv", evaluation.per_recording_table(per, info))
    write_csv("metrics/recordings/per_fold.csv", evaluation.table(per, {rid: i["fold"] for rid, i in info.items()}, "fold"))
    write_csv("metrics/recordings/per_dataset.csv", by_dataset)
    print(evaluation.summary(figures, by_dataset))


if __name__ == "__main__":
    run_stage("recordings/evaluate", main)
