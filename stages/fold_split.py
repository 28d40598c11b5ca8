"""DVC stage fold-split: the clips that reached the flow stage -> data/folds.json (subject -> fold)."""

from collections import Counter

from apexspot.clips.manifest import read_manifest
from apexspot.clips.records import surviving
from apexspot.core import config
from apexspot.core.errors import run_stage
from apexspot.core.files import write_json
from apexspot.core.folds import fold_table, folds_document, make_folds


def main() -> None:
    p = config.load().folds
    clips, dropped = surviving(read_manifest("data/manifest.csv"), "data/flow_clips.json")
    if dropped:
        print(f"fold-split: {len(dropped)} manifest clip(s) did not reach the flow stage and are not split: "
              + ", ".join(f"{n} {reason}" for reason, n in Counter(s.reason for s in dropped).most_common()))
        for s in dropped:
            print(f"  {s.clip_id} ({s.stage}): {s.reason}: {s.detail}")
    assignment = make_folds(clips, p.scheme, p.k, p.seed)
    write_json("data/folds.json", folds_document(clips, assignment, p.scheme, p.k, p.seed))
    print(f"fold-split: {p.scheme}, {max(assignment.values()) + 1} folds, {len(assignment)} groups, "
          f"{len(clips)} clips")
    print(fold_table(clips, assignment))


if __name__ == "__main__":
    run_stage("fold-split", main)
