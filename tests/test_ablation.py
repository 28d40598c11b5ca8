"""The ablation table read back from `dvc exp show --json`."""

from __future__ import annotations

from apexspot.ablation import experiment_rows, markdown_table


def figures(mae: float) -> dict:
    return {"mae": mae, "mae_fold_std": 1.5, "median_ae": 3.0, "within_5": 0.6, "within_10": 0.8}


def exp(name: str, mae: float) -> dict:
    return {"rev": "abc", "name": name, "data": {"metrics": {"metrics/mae.json": {"data": {
        "model": figures(mae), "centre": figures(10.62)}}}}}


def test_table_has_a_row_per_variant_and_the_centre_baseline() -> None:
    table = [{"rev": "workspace", "data": {}, "experiments": None},
             {"rev": "main", "data": {}, "experiments": [{"revs": [exp("ablate-bn3", 12.0)]},
                                                          {"revs": [exp("ablate-lrn5_att", 9.5)]},
                                                          {"revs": [exp("someone-else", 1.0)]}]}]
    rows = experiment_rows(table)
    assert set(rows) == {"ablate-bn3", "ablate-lrn5_att", "someone-else"}
    text = markdown_table(rows, ["bn3", "bn4", "lrn5_att"]).splitlines()
    assert text[2] == "| bn3 | 15.88 | 12.00 | 1.50 | 3.0 | 0.60 | 0.80 |"
    assert text[3] == "| bn4 | 15.57 | (no result) | | | | |"
    assert text[4].startswith("| lrn5_att | 14.9 | 9.50 |")
    assert text[5].startswith("| centre of window (baseline) |  | 10.62 |")
