"""DVC stage recordings/fold-split: the preprocessed recordings -> data/recordings/folds.json (subject -> fold)."""

import json

from apexspot.core import config
from apexspot.core.errors import run_stage
from apexspot.core.files import write_json
from apexspot.core.folds import fold_table, folds_document, make_folds
from apexspot.recordings.recording import read_recordings


def main() -> None:
    p = config.load().recordings.folds
    report = json.loads(open("data/recordings/preprocess_report.json").read())
    done = set(report["per_recording"])
    recordings = [r for r in read_recordings("data/recordings/recordings.csv") if r.recording_id in done]
    for s in report["skipped"]:
        print(f"recordings/fold-split: {s['recording_id']} was not preprocessed ({s['skipped']}) and is not split")
    assignment = make_folds(recordings, p.scheme, p.k, p.seed, "recordings.folds", "recordings")
    write_json("data/recordings/folds.json", folds_document(recordings, assignment, p.scheme, p.k, p.seed))
    print(f"recordings/fold-split: {p.scheme}, {max(assignment.values()) + 1} folds, {len(assignment)} groups, "
          f"{len(recordings)} recordings")
    print(fold_table(recordings, assignment, "recs"))


if __name__ == "__main__":
    run_stage("recordings/fold-split", main)
