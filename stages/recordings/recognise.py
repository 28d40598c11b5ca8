"""DVC stage recordings/recognise: flow + folds + the spotted intervals (metrics/recordings/intervals.csv)
-> recordings/recognisers/ (a classifier per fold, for `apexspot spot`), metrics/recordings/strs.json
(STRS, spotting and analysis F1 with intervals, per dataset), metrics/recordings/recognition.csv (every
spotted interval's class) and metrics/recordings/recognition_report.json (coded emotions left out)."""

import time

import pandas as pd

from apexspot.core import config
from apexspot.core.errors import run_stage
from apexspot.core.files import fresh_dir, write_csv, write_json
from apexspot.core.folds import read_folds
from apexspot.core.training import make_deterministic
from apexspot.recognition import recordings as rr
from apexspot.recognition.classes import CLASSES
from apexspot.recognition.recogniser import Recogniser
from apexspot.recordings import sequences
from apexspot.recordings.megc import KINDS
from apexspot.recordings.recording import read_intervals, read_recordings


def main() -> None:
    start = time.perf_counter()
    p = config.load().recordings
    classes = CLASSES[rr.SCHEME]
    recordings = {r.recording_id: r for r in read_recordings("data/recordings/recordings.csv")}
    folds = read_folds("data/recordings/folds.json", recordings)
    coded = read_intervals("data/recordings/intervals.csv")
    used = [recordings[i] for f in folds for i in f["clips"]]
    seqs = {s.recording_id: s for s in sequences.read_all(used, coded, "data/recordings/flow")}
    found = pd.read_csv("metrics/recordings/intervals.csv", dtype={"recording": str}, keep_default_na=False)
    found = found[found["source"] == "model"]
    make_deterministic(p.recognition.seed)
    out = fresh_dir("recordings/recognisers")
    rows, items, untrained = [], [], []
    for fold in folds:
        k = fold["fold"]
        model = rr.train([seqs[i] for other in folds if other is not fold for i in other["clips"]], classes,
                         p.recognition, p.recognition.seed + k)
        if model is None:
            untrained.append({"fold": k, "recordings": fold["clips"], "reason": "no coded interval of its training "
                              "recordings has an emotion with a composite class; its recordings are left out of STRS"})
            continue
        Recogniser(model, classes, rr.SCHEME, "pooled_flow").save(out / f"fold_{k}.keras", fold=k)
        for rid in fold["clips"]:
            seq = seqs[rid]
            truth = rr.coded_classes(seq)
            spotted = rr.spotted_of(found[found["recording"] == rid], seq)
            for kind in KINDS:
                said = rr.classify_spotted(model, seq, [span for span, _ in spotted[kind]], classes)
                items.append((seq.dataset, seq.subject, [(span, c) for (span, _), (c, _) in zip(spotted[kind], said)],
                              [(span, truth[span]) for span in seq.coded[kind]]))
                rows += [{"recording": rid, "subject": seq.subject, "dataset": seq.dataset, "fold": k, "kind": kind,
                          "onset": int(seq.numbers[span.onset]), "apex": int(seq.numbers[apex]),
                          "offset": int(seq.numbers[span.offset]),
                          "read_at": int(seq.numbers[seq.positions[rr.reading_step(seq, span)]]),
                          "class": c, "probability": round(q, 4)}
                         for (span, apex), (c, q) in zip(spotted[kind], said)]
    results = rr.strs_by_dataset(items, classes, p.bootstrap, 0) if items else {}
    figures = {f"{name}_{key}" if len(results) > 1 else key: round(value, 4) if isinstance(value, float) else value
               for name, got in results.items() for key, value in got.items()}
    figures["recordings_scored"] = len(seqs) - sum(len(f["recordings"]) for f in untrained)
    datasets = {rid: seqs[rid].dataset for rid in seqs}
    left = rr.left_out(coded, datasets)
    write_json("metrics/recordings/strs.json", figures)
    write_csv("metrics/recordings/recognition.csv", pd.DataFrame(rows))
    write_json("metrics/recordings/recognition_report.json", {"scheme": rr.SCHEME, "classes": list(classes),
                                                              "left_out": left, "folds_not_trained": untrained})
    print(f"recordings/recognise: {len(rows)} spotted intervals classified ({', '.join(classes)}), "
          f"{len(folds)} folds, {time.perf_counter() - start:.0f} s; 95% intervals from {p.bootstrap} subject resamples")
    for name, got in results.items():
        print(f"  {name}: STRS {got['strs']:.3f} [{got['strs_ci_low']:.3f}, {got['strs_ci_high']:.3f}] = "
              f"spotting F1 {got['spotting_f1']:.3f} [{got['spotting_f1_ci_low']:.3f}, {got['spotting_f1_ci_high']:.3f}]"
              f" x analysis F1 {got['analysis_f1']:.3f} [{got['analysis_f1_ci_low']:.3f}, "
              f"{got['analysis_f1_ci_high']:.3f}] ({got['pairs_analysed']} matched intervals with a class)")
    for f in untrained:
        print(f"  fold {f['fold']}: {f['reason']}")
    if left:
        print(f"  {len(left)} coded interval(s) have no composite class (left out of the analysis F1, still "
              f"spotted), e.g. {left[0]['recording']} ({left[0]['sheet']} row {left[0]['row']}): {left[0]['reason']}")


if __name__ == "__main__":
    run_stage("recordings/recognise", main)
