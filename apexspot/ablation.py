"""The paper's ablation table (Table 8), made by DVC experiments: one per variant in params.yaml.

Everything runs through DVC itself: each variant is queued as a named experiment
(`dvc exp run --queue -n ablate-<variant> -S variant=<variant>`), the queue is run, and the
comparison is read back from `dvc exp show --json`. Stages whose inputs did not change
(ingest, face-align, flow, fold-split) come from DVC's cache in every experiment.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from apexspot.errors import ApexspotError

PREFIX = "ablate-"
PAPER_MAE = {"bn3": 15.88, "bn4": 15.57, "bn5": 15.20, "lrn5": 15.17, "lrn5_att": 14.90}


def dvc(*args: str, capture: bool = False) -> str:
    # DVC's own progress goes to stderr, so stdout carries only the table.
    done = subprocess.run([sys.executable, "-m", "dvc", *args], text=True, check=False,
                          stdout=subprocess.PIPE if capture else sys.stderr,
                          stderr=subprocess.PIPE if capture else None)
    if done.returncode != 0:
        detail = (done.stderr or "").strip()[-2000:] if capture else "see the output above"
        raise ApexspotError(f"`dvc {' '.join(args)}` failed ({done.returncode}): {detail}")
    return done.stdout or ""


def queue(variants: list[str], overrides: list[str]) -> None:
    """Queue one named experiment per variant; an older run of the same name is replaced."""
    existing = set(experiment_rows(json.loads(dvc("exp", "show", "--json", capture=True) or "[]")))
    stale = [f"{PREFIX}{v}" for v in variants if f"{PREFIX}{v}" in existing]
    if stale:
        dvc("exp", "remove", *stale)
    for variant in variants:
        sets = [arg for o in overrides for arg in ("-S", o)]
        dvc("exp", "run", "--queue", "-n", f"{PREFIX}{variant}", "-S", f"variant={variant}", *sets)


def experiment_rows(table: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """name -> data of every experiment in `dvc exp show --json`."""
    rows = {}
    for commit in table:
        for exp in commit.get("experiments") or []:
            for rev in exp.get("revs") or []:
                name = rev.get("name") or (rev.get("data") or {}).get("name")
                if name and rev.get("data"):
                    rows[name] = rev["data"]
    return rows


def markdown_table(rows: dict[str, dict[str, Any]], variants: list[str]) -> str:
    """Variant rows (ours beside the paper's MAE) and one row for the centre-of-window baseline."""
    lines = ["| variant | paper MAE | MAE | fold sd | median | within 5 | within 10 |",
             "|---|---|---|---|---|---|---|"]
    centre = None
    for variant in variants:
        data = rows.get(f"{PREFIX}{variant}")
        metrics = ((data or {}).get("metrics") or {}).get("metrics/mae.json", {}).get("data")
        if not metrics:
            lines.append(f"| {variant} | {PAPER_MAE.get(variant, '')} | (no result) | | | | |")
            continue
        lines.append(_row(variant, PAPER_MAE.get(variant, ""), metrics["model"]))
        centre = centre or metrics["centre"]
    if centre:
        lines.append(_row("centre of window (baseline)", "", centre))
    return "\n".join(lines)


def _row(name: str, paper: Any, m: dict[str, Any]) -> str:
    return (f"| {name} | {paper} | {m['mae']:.2f} | {m['mae_fold_std']:.2f} | {m['median_ae']:.1f} "
            f"| {m['within_5']:.2f} | {m['within_10']:.2f} |")


def run(variants: list[str], overrides: list[str], jobs: int = 1) -> str:
    queue(variants, overrides)
    dvc("exp", "run", "--run-all", "--jobs", str(jobs))
    return markdown_table(experiment_rows(json.loads(dvc("exp", "show", "--json", capture=True))), variants)
