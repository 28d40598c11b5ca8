"""DVC stage fold-split: data/manifest.csv -> data/folds.json (subject -> fold)."""

import sys

from apexspot.atomic import write_json
from apexspot.datasets.manifest import read_manifest
from apexspot.errors import ApexspotError
from apexspot.folds import fold_table, folds_document, make_folds
from apexspot.params import load_params, section


def main() -> None:
    p = section(load_params(), "folds")
    clips = read_manifest("data/manifest.csv")
    scheme, k, seed = p.get("scheme", "kfold"), int(p.get("k", 5)), int(p.get("seed", 0))
    assignment = make_folds(clips, scheme, k, seed)
    write_json("data/folds.json", folds_document(clips, assignment, scheme, k, seed))
    print(f"fold-split: {scheme}, {max(assignment.values()) + 1} folds, {len(assignment)} subjects")
    print(fold_table(clips, assignment))


if __name__ == "__main__":
    try:
        main()
    except ApexspotError as err:
        sys.exit(f"fold-split: error: {err}")
