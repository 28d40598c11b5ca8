"""The paper's ablation table (Table 8) and our variant, and the interval spotter's variants,
made by DVC experiments.

Each variant is queued as a named experiment (`dvc exp run --queue -n ablate-<variant>
-S variant=<variant>`), the queue is run, and the results are read back with
`dvc.api.exp_show`. Stages whose inputs did not change (ingest, face-align, flow,
fold-split) come from DVC's cache in every experiment. An experiment that failed is
reported as failed, never with another experiment's numbers.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from apexspot.core.errors import ApexspotError

PREFIX = "ablate-"
PAPER_MAE = {"bn3": 15.88, "bn4": 15.57, "bn5": 15.20, "lrn5": 15.17, "lrn5_att": 14.90}


def dvc(*args: str) -> int:
    """Run a DVC command; its output goes to stderr so stdout carries only the table."""
    return subprocess.run([sys.executable, "-m", "dvc", *args], stdout=sys.stderr, check=False).returncode


def experiments(baseline: str | None = None) -> dict[str, dict[str, Any]]:
    """Experiment name -> its row of `dvc.api.exp_show` (metrics and params flattened), for
    the experiments of `baseline` (a commit; default HEAD), so a commit made while the queue
    runs does not hide them."""
    import dvc.api

    rows = dvc.api.exp_show(revs=[baseline]) if baseline else dvc.api.exp_show()
    return {row["Experiment"]: row for row in rows if row.get("Experiment")}


def head() -> str:
    """The commit the experiments are queued on."""
    return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()


def metric(row: dict[str, Any], name: str) -> Any:
    """A metric of a row, whatever prefix exp_show gave its column (e.g. metrics/mae.json:)."""
    for key, value in row.items():
        if key == name or key.endswith(":" + name):
            return value
    return None


def result(row: dict[str, Any] | None) -> dict[str, Any] | None:
    """The figures of a finished experiment, or None if it failed or has no metrics."""
    if row is None or str(row.get("State") or "").lower() in ("failed", "queued", "running"):
        return None
    figures = {k: metric(row, k) for k in (
        "model.mae", "model.ci_low", "model.ci_high", "model.median_ae", "model.within_5",
        "centre.mae", "centre.ci_low", "centre.ci_high", "diff.mean",
        "diff.ci_low", "diff.ci_high", "diff.verdict", "clips")}
    return figures if isinstance(figures["model.mae"], (int, float)) else None


def markdown_table(rows: dict[str, dict[str, Any]], variants: list[str]) -> tuple[str, list[str]]:
    """(the table, the variants whose experiment failed). One row per variant, then the centre."""
    lines = ["| variant | paper MAE | MAE [95% CI] | median | within 5 | model − centre [95% CI] | vs centre |",
             "|---|---|---|---|---|---|---|"]
    failed, centre = [], None
    for variant in variants:
        r = result(rows.get(f"{PREFIX}{variant}"))
        if r is None:
            failed.append(variant)
            lines.append(f"| {variant} | {PAPER_MAE.get(variant, '')} | **failed** (no result) | | | | |")
            continue
        centre = centre or r
        lines.append(
            f"| {variant} | {PAPER_MAE.get(variant, '')} | {r['model.mae']:.2f} [{r['model.ci_low']:.2f}, "
            f"{r['model.ci_high']:.2f}] | {r['model.median_ae']:.1f} | {r['model.within_5']:.2f} "
            f"| {r['diff.mean']:+.2f} [{r['diff.ci_low']:+.2f}, "
            f"{r['diff.ci_high']:+.2f}] | {words(r['diff.verdict'])} |")
    if centre:
        lines.append(f"| centre of window (baseline) | | {centre['centre.mae']:.2f} [{centre['centre.ci_low']:.2f}, "
                     f"{centre['centre.ci_high']:.2f}] | | | 0 | |")
    return "\n".join(lines), failed


def words(verdict: Any) -> str:
    return {"better": "significantly better", "worse": "significantly worse"}.get(
        str(verdict), "not significantly different")


def run(variants: list[str], overrides: list[str], jobs: int = 1) -> str:
    """Queue, run and tabulate; raises (after the table is printed) if any experiment failed."""
    experiments_ = {f"{PREFIX}{v}": ["-S", f"variant={v}"] for v in variants}
    return run_queue(experiments_, overrides, jobs, lambda rows: markdown_table(rows, variants))


def run_queue(named: dict[str, list[str]], overrides: list[str], jobs: int,
              tabulate: Any) -> str:
    """Queue one experiment per name (its `dvc exp run` arguments; an older run of the same
    name is removed first), run the queue, print `tabulate(rows)`'s table; raise if any failed."""
    baseline = head()
    existing = set(experiments(baseline))
    stale = [name for name in named if name in existing]
    if stale and dvc("exp", "remove", *stale) != 0:
        raise ApexspotError(f"`dvc exp remove {' '.join(stale)}` failed (see above)")
    for name, args in named.items():
        sets = [arg for o in overrides for arg in ("-S", o)]
        if dvc("exp", "run", "--queue", "-n", name, *args, *sets) != 0:
            raise ApexspotError(f"could not queue the experiment {name!r} (see above)")
    code = dvc("exp", "run", "--run-all", "--jobs", str(jobs))
    table, failed = tabulate(experiments(baseline))
    print(table)
    if failed or code != 0:
        raise ApexspotError(f"{len(failed)} experiment(s) failed: {', '.join(failed) or '(see above)'}; "
                            "`dvc queue logs <name>` shows why")
    return table


# ------------------------------------------------------------------ the long-recording pipeline

RECORDINGS = "recordings/dvc.yaml"
AS_IT_IS = "params.yaml as it is"


def recording_name(setting: str) -> str:
    """ablate-rec-spotter.width-16 for recordings.spotter.width=16 (a git ref name)."""
    if setting == AS_IT_IS:
        return PREFIX + "rec-params"
    slug = setting.removeprefix("recordings.").replace("=", "-").replace(" ", "")
    return PREFIX + "rec-" + "".join(c if c.isalnum() or c in "._-" else "_" for c in slug)


def recordings_result(row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is None or str(row.get("State") or "").lower() in ("failed", "queued", "running"):
        return None
    keys = [f"{k}_f1{s}" for k in ("micro", "macro", "overall") for s in ("", "_ci_low", "_ci_high")]
    keys += ["micro_f1_minus_flow_peaks", "micro_f1_minus_flow_peaks_ci_low", "micro_f1_minus_flow_peaks_ci_high",
             "flow_peaks_micro_f1"]
    figures = {k: metric(row, k) for k in keys}
    return figures if isinstance(figures["micro_f1"], (int, float)) else None


def recordings_table(rows: dict[str, dict[str, Any]], settings: list[str]) -> tuple[str, list[str]]:
    """One row per setting (the first: params.yaml as it is), F1 with 95% intervals."""
    lines = ["| setting | micro F1 [95% CI] | macro F1 [95% CI] | overall F1 [95% CI] | micro − flow peaks [95% CI] |",
             "|---|---|---|---|---|"]
    failed, base = [], None
    for setting in settings:
        r = recordings_result(rows.get(recording_name(setting)))
        if r is None:
            failed.append(setting)
            lines.append(f"| {setting} | **failed** (no result) | | | |")
            continue
        base = base or r
        cells = [f"{r[f'{k}_f1']:.3f} [{r[f'{k}_f1_ci_low']:.3f}, {r[f'{k}_f1_ci_high']:.3f}]"
                 for k in ("micro", "macro", "overall")]
        diff = (f"{r['micro_f1_minus_flow_peaks']:+.3f} [{r['micro_f1_minus_flow_peaks_ci_low']:+.3f}, "
                f"{r['micro_f1_minus_flow_peaks_ci_high']:+.3f}]")
        lines.append(f"| {setting} | " + " | ".join(cells) + f" | {diff} |")
    if base:
        lines.append(f"| flow-magnitude peaks (baseline) | {base['flow_peaks_micro_f1']:.3f} | | | 0 |")
    return "\n".join(lines), failed


def run_recordings(settings: list[str], overrides: list[str], jobs: int = 1) -> str:
    """Each setting (`recordings.spotter.width=16`) as one experiment of the long-recording
    pipeline, beside params.yaml as it is; only the stages the setting reaches rerun."""
    settings = [AS_IT_IS] + [s for s in settings if s]
    named = {recording_name(s): [RECORDINGS] + ([] if s == settings[0] else ["-S", s]) for s in settings}
    return run_queue(named, overrides, jobs, lambda rows: recordings_table(rows, settings))
