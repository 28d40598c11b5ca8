"""The long-recording evaluation: each held-out recording spotted by the fold's model and by
the baseline fitted on that fold's training recordings, scored the MEGC way, with subject
bootstrap intervals for every F1 and for the model's difference from the baseline."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from apexspot.recordings.intervals import Spotted, as_spans
from apexspot.core.bootstrap import resampled_sums
from apexspot.recordings.megc import Counts, KINDS, bootstrap, match, pooled, rounded_interval, score_recording
from apexspot.recordings.sequences import Sequence

METHODS = ("model", "flow_peaks")  # the model first; the baseline it must beat
TYPES = (*KINDS, "overall")


def matched_rows(seq: Sequence, fold: int, method: str, spotted: list[Spotted]) -> list[dict[str, Any]]:
    """Every spotted and every coded interval of one recording, in its own frame numbers,
    each spotted one marked as a true positive or not (the timeline plot and the CSV)."""
    rows = []
    fps = seq.fps
    for kind in KINDS:
        mine = [s for s in spotted if s.kind == kind]
        coded = seq.coded[kind]
        pairs = dict(match([s.span for s in mine], coded))
        for i, s in enumerate(mine):
            truth = coded[pairs[i]] if i in pairs else None
            coded_apex = seq.apexes.get(truth) if truth is not None else None
            rows.append({"recording": seq.recording_id, "subject": seq.subject, "dataset": seq.dataset, "fold": fold,
                         "source": method, "kind": kind, "onset": int(seq.numbers[s.onset]),
                         "apex": int(seq.numbers[s.apex]), "offset": int(seq.numbers[s.offset]),
                         "onset_s": round(s.onset / fps, 3), "offset_s": round((s.offset + 1) / fps, 3),
                         "confidence": s.confidence, "true_positive": truth is not None,
                         "apex_error": abs(s.apex - coded_apex) if coded_apex is not None else None})
    return rows


def coded_rows(seq: Sequence, fold: int) -> list[dict[str, Any]]:
    return [{"recording": seq.recording_id, "subject": seq.subject, "dataset": seq.dataset, "fold": fold,
             "source": "coded", "kind": kind, "onset": int(seq.numbers[s.onset]),
             "apex": int(seq.numbers[seq.apexes[s]]) if s in seq.apexes else None,
             "offset": int(seq.numbers[s.offset]), "onset_s": round(s.onset / seq.fps, 3),
             "offset_s": round((s.offset + 1) / seq.fps, 3), "confidence": None, "true_positive": None,
             "apex_error": None}
            for kind in KINDS for s in seq.coded[kind]]


def counts_of(seq: Sequence, spotted: list[Spotted]) -> dict[str, Counts]:
    return score_recording(as_spans(spotted), seq.coded)


def headline(per: dict[str, dict[str, dict[str, Counts]]], subjects: dict[str, str], apex_errors: dict[str, float],
             resamples: int, seed: int) -> dict[str, Any]:
    """Flat metrics: the model's F1 (micro first), precision, recall, counts and intervals,
    the baseline's, and the model minus the baseline, paired over the same subject draws."""
    draws = bootstrap(per, subjects, resamples, seed)
    totals = {m: pooled(per[m].values()) for m in per}
    out: dict[str, Any] = {}
    for method in METHODS:
        prefix = "" if method == "model" else f"{method}_"
        for kind in TYPES:
            c = totals[method][kind]
            low, high = rounded_interval(draws[method][kind])
            out |= {f"{prefix}{kind}_f1": round(c.f1, 4), f"{prefix}{kind}_f1_ci_low": low,
                    f"{prefix}{kind}_f1_ci_high": high}
        if method == "model":
            for kind in TYPES:
                diff = draws["model"][kind] - draws[METHODS[1]][kind]
                low, high = rounded_interval(diff)
                out |= {f"{kind}_f1_minus_{METHODS[1]}": round(totals["model"][kind].f1 - totals[METHODS[1]][kind].f1, 4),
                        f"{kind}_f1_minus_{METHODS[1]}_ci_low": low, f"{kind}_f1_minus_{METHODS[1]}_ci_high": high}
        for kind in TYPES:
            c = totals[method][kind]
            out |= {f"{prefix}{kind}_precision": round(c.precision, 4), f"{prefix}{kind}_recall": round(c.recall, 4),
                    f"{prefix}{kind}_tp": c.tp, f"{prefix}{kind}_fp": c.fp, f"{prefix}{kind}_fn": c.fn}
    out |= apex_errors
    out |= {"recordings": len(subjects), "subjects": len(set(subjects.values())), "resamples": resamples}
    return out


def apex_error(rows: pd.DataFrame, resamples: int, seed: int) -> dict[str, Any]:
    """Mean |spotted - coded apex| (frames) over the model's true positives with a coded apex,
    with a subject bootstrap interval."""
    hits = rows[(rows["source"] == "model") & rows["apex_error"].notna()]
    if hits.empty:
        return {"apex_error_frames": None, "apex_error_intervals": 0}
    per_subject = hits.groupby("subject")["apex_error"].agg(["sum", "count"]).to_numpy(np.float64)
    drawn = resampled_sums(per_subject, resamples, seed)
    low, high = rounded_interval(drawn[:, 0] / drawn[:, 1])
    return {"apex_error_frames": round(float(hits["apex_error"].mean()), 3), "apex_error_ci_low": low,
            "apex_error_ci_high": high, "apex_error_intervals": int(len(hits))}


def table(per: dict[str, dict[str, dict[str, Counts]]], group_of: dict[str, Any], name: str) -> pd.DataFrame:
    """F1 per group (fold, dataset) and method, pooled within the group."""
    rows = []
    for group in sorted(set(group_of.values()), key=str):
        row: dict[str, Any] = {name: group}
        for method in METHODS:
            total = pooled(c for rec, c in per[method].items() if group_of[rec] == group)
            for kind in TYPES:
                row[f"{method}_{kind}_f1"] = round(total[kind].f1, 4)
        rows.append(row)
    return pd.DataFrame(rows)


def per_recording_table(per: dict[str, dict[str, dict[str, Counts]]], info: dict[str, dict[str, Any]]) -> pd.DataFrame:
    rows = []
    for rec in sorted(info):
        row = dict(info[rec])
        for method in METHODS:
            for kind in KINDS:
                c = per[method][rec][kind]
                row |= {f"{method}_{kind}_tp": c.tp, f"{method}_{kind}_fp": c.fp, f"{method}_{kind}_fn": c.fn}
        rows.append(row)
    return pd.DataFrame(rows)


def summary(m: dict[str, Any], by_dataset: pd.DataFrame) -> str:
    base = METHODS[1]
    lines = [f"evaluate: {m['recordings']} recordings, {m['subjects']} subjects; IoU >= 0.5, counts pooled; "
             f"95% intervals from {m['resamples']} subject resamples",
             f"  {'':<12}{'micro F1':>24}{'macro F1':>24}{'overall F1':>24}"]
    for method, prefix in (("model", ""), (base, f"{base}_")):
        cells = "".join(f"{m[f'{prefix}{k}_f1']:>8.3f} [{m[f'{prefix}{k}_f1_ci_low']:.3f}, {m[f'{prefix}{k}_f1_ci_high']:.3f}]"
                        for k in TYPES)
        lines.append(f"  {method:<12}{cells}")
    cells = "".join(f"{m[f'{k}_f1_minus_{base}']:>+8.3f} [{m[f'{k}_f1_minus_{base}_ci_low']:+.3f}, "
                    f"{m[f'{k}_f1_minus_{base}_ci_high']:+.3f}]" for k in TYPES)
    lines.append(f"  {'difference':<12}{cells}")
    lines.append(f"  model micro: precision {m['micro_precision']:.3f}, recall {m['micro_recall']:.3f} "
                 f"({m['micro_tp']} TP, {m['micro_fp']} FP, {m['micro_fn']} FN)")
    if m.get("apex_error_frames") is not None:
        lines.append(f"  apex error of matched intervals: {m['apex_error_frames']:.2f} frames "
                     f"[{m['apex_error_ci_low']:.2f}, {m['apex_error_ci_high']:.2f}] ({m['apex_error_intervals']} intervals)")
    for row in by_dataset.itertuples():
        lines.append(f"  {row.dataset}: model micro {row.model_micro_f1:.3f}, macro {row.model_macro_f1:.3f}; "
                     f"{base} micro {getattr(row, f'{base}_micro_f1'):.3f}, macro {getattr(row, f'{base}_macro_f1'):.3f}")
    return "\n".join(lines)
