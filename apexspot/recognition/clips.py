"""Recognising the emotion of each held-out clip, at the apex the spotter found and at the
coded one, beside STSTNet and the majority class, on the spotting folds.

Every classifier of a fold learns from that fold's training subjects only (the same subjects
the fold's spotter learnt from), and reads the flow from onset to one frame, as the flow
stage stored it. It is trained on the flow at the coded apex and up to `jitter` frames from
it, mirrored too (u negated): an apex the spotter misses by a few frames shows the same
action units a little weaker, and an emotion has no side.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import cv2
import keras
import numpy as np
import pandas as pd

from apexspot.clips.manifest import Clip
from apexspot.core.config import RecognitionParams
from apexspot.core.errors import ApexspotError
from apexspot.core.flow import strain
from apexspot.recognition import networks
from apexspot.recognition.classes import classify
from apexspot.recognition.metrics import paired_difference, recognition

# (name, apex): the predictors scored, each at the spotted or the coded apex.
PREDICTORS = (("ours", "spotted"), ("ours", "coded"), ("ststnet", "spotted"), ("ststnet", "coded"),
              ("majority", "any"))


def labels(clips: list[Clip], scheme: str) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Each clip's class under `scheme`, and the clips left out with the sheet row and why."""
    kept, left_out = {}, []
    for clip in clips:
        label, why = classify(clip.emotion, clip.dataset, scheme)
        if label is None:
            left_out.append({"clip_id": clip.clip_id, "dataset": clip.dataset, "sheet": clip.sheet,
                             "row": clip.sheet_row, "emotion": clip.emotion, "reason": why})
        else:
            kept[clip.clip_id] = label
    return kept, left_out


def left_out_lines(left_out: list[dict[str, Any]]) -> str:
    """One line per emotion left out: how many clips, and the first one's sheet row and reason."""
    lines = []
    for emotion, n in Counter(row["emotion"] for row in left_out).most_common():
        first = next(row for row in left_out if row["emotion"] == emotion)
        lines.append(f"  left out: {n} clip(s) coded {emotion!r}, e.g. {first['clip_id']} ({first['sheet']} row "
                     f"{first['row']}): {first['reason']}")
    return "\n".join(lines)


@dataclass
class ClipFlow:
    """What recognition reads of one clip's flow file: the frames near its coded apex and the
    frame at its spotted apex (the rest of the file is not kept in memory)."""

    coded: np.ndarray  # (2 * jitter + 1) x size x size x channels, the coded apex in the middle (clipped at the ends)
    spotted: np.ndarray  # size x size x channels

    @property
    def at_coded(self) -> np.ndarray:
        return self.coded[len(self.coded) // 2]


def clip_flow(flow: np.ndarray, clip: Clip, spotted_apex: int, jitter: int) -> ClipFlow:
    last = len(flow) - 1
    at = clip.apex - clip.onset
    near = [min(max(at + d, 0), last) for d in range(-jitter, jitter + 1)]
    spotted = min(max(spotted_apex - clip.onset, 0), last)
    return ClipFlow(flow[near].astype(np.float32), flow[spotted].astype(np.float32))


def mirrored(x: np.ndarray, channels: list[str]) -> np.ndarray:
    """The face flipped left to right: columns reversed, u negated (magnitude and strain stay)."""
    out = x[:, :, ::-1].copy()
    if "u" in channels:
        out[..., channels.index("u")] *= -1
    return out


def stst_input(x: np.ndarray, channels: list[str]) -> np.ndarray:
    """STSTNet's input from stored flow: optical strain, u and v at 28 x 28."""
    if "u" not in channels or "v" not in channels:
        raise ApexspotError(f"params.yaml flow.channels is {channels}: STSTNet reads u and v (and their strain); "
                            f"add u and v to flow.channels")
    out = np.empty((len(x), networks.STST_SIZE, networks.STST_SIZE, 3), np.float32)
    size = (networks.STST_SIZE, networks.STST_SIZE)
    for i, sample in enumerate(x):
        uv = np.ascontiguousarray(sample[..., [channels.index("u"), channels.index("v")]], np.float32)
        for c, image in enumerate((strain(uv), uv[..., 0], uv[..., 1])):
            out[i, ..., c] = cv2.resize(np.ascontiguousarray(image, np.float32), size, interpolation=cv2.INTER_AREA)
    return out


def train_fold(train: list[tuple[ClipFlow, int]], channels: list[str], classes: tuple[str, ...],
               p: RecognitionParams, seed: int):
    """Our classifier and STSTNet, trained on the training clips' flow near the coded apex."""
    x = np.concatenate([flow.coded for flow, _ in train])
    y = np.concatenate([np.full(len(flow.coded), label) for flow, label in train])
    x = np.concatenate([x, mirrored(x, channels)])
    y = np.concatenate([y, y]).astype(np.int32)
    keras.utils.set_random_seed(seed)
    ours = networks.fit(networks.flow_classifier(x.shape[1], x.shape[-1], len(classes)), x, y,
                        p.epochs, p.batch_size, p.learning_rate)
    keras.utils.set_random_seed(seed)
    stst = networks.fit(networks.ststnet(len(classes)), stst_input(x, channels), y,
                        p.epochs, p.batch_size, p.learning_rate)
    return ours, stst


def held_out_rows(clips: list[Clip], flows: dict[str, ClipFlow], spotted: dict[str, int], fold: int,
                  truth: dict[str, str], trained: tuple | None, majority: str, channels: list[str],
                  classes: tuple[str, ...]) -> list[dict[str, Any]]:
    """One row per held-out clip: the truth (blank when left out) and every predictor's class
    (blank when the fold had nothing to train on: `trained` None)."""
    rows = []
    for clip in clips:
        rows.append({"clip_id": clip.clip_id, "subject": clip.subject, "dataset": clip.dataset, "fold": fold,
                     "emotion": clip.emotion, "truth": truth.get(clip.clip_id, ""), "coded_apex": clip.apex,
                     "spotted_apex": spotted[clip.clip_id]}
                    | {f"{name}_{where}": "" for name, where in PREDICTORS}
                    | {"ours_spotted_probability": None, "ours_coded_probability": None})
    if not clips or trained is None:
        return rows
    ours, stst = trained
    at = {"coded": np.stack([flows[c.clip_id].at_coded for c in clips]),
          "spotted": np.stack([flows[c.clip_id].spotted for c in clips])}
    for where, x in at.items():
        for name, model, inputs in (("ours", ours, x), ("ststnet", stst, stst_input(x, channels))):
            for row, (c, q) in zip(rows, networks.named(networks.probabilities(model, inputs), classes)):
                row[f"{name}_{where}"] = c
                if name == "ours":
                    row[f"{name}_{where}_probability"] = round(float(q), 4)
    for row in rows:
        row["majority_any"] = majority
    return rows


def majority_class(labels_: list[str]) -> str:
    """The most frequent class (ties: the first in the class order)."""
    counts = Counter(labels_)
    return sorted(counts, key=lambda c: (-counts[c], c))[0]


def scored_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The clips recognition is scored on: a class from the scheme, and a prediction."""
    return table[(table["truth"] != "") & (table["ours_spotted"] != "")]


def headline(table: pd.DataFrame, classes: tuple[str, ...], resamples: int, seed: int) -> dict[str, Any]:
    """Flat numbers for `dvc exp show`: every predictor's UF1 and UAR with intervals, and the
    paired differences that answer the questions (ours minus majority, ours minus STSTNet,
    spotted minus coded apex)."""
    scored = scored_rows(table)
    if scored.empty:
        raise ApexspotError("no held-out clip both has an emotion the recognition scheme maps and a classifier "
                            "trained on its fold; see metrics/recognition_report.json")
    truth, subjects = scored["truth"].tolist(), scored["subject"].tolist()
    # Not "clips" and "subjects": metrics/mae.json has those, and `dvc exp show` would merge the columns.
    out: dict[str, Any] = {"scored_clips": len(scored), "scored_subjects": len(set(subjects)), "classes": len(classes)}
    for name, where in PREDICTORS:
        column = f"{name}_{where}"
        got = recognition(truth, scored[column].tolist(), subjects, classes, resamples, seed)
        for key in ("uf1", "uar"):
            out |= {f"{column}_{key}": round(got[key], 4), f"{column}_{key}_ci_low": round(got[f"{key}_ci_low"], 4),
                    f"{column}_{key}_ci_high": round(got[f"{key}_ci_high"], 4)}
    for label, first, second in (("ours_minus_majority", "ours_spotted", "majority_any"),
                                 ("ours_minus_ststnet", "ours_spotted", "ststnet_spotted"),
                                 ("spotted_minus_coded", "ours_spotted", "ours_coded")):
        d = paired_difference(truth, scored[first].tolist(), scored[second].tolist(), subjects, classes, resamples, seed)
        for key in ("uf1", "uar"):
            out |= {f"{label}_{key}": round(d[key], 4), f"{label}_{key}_ci_low": round(d[f"{key}_ci_low"], 4),
                    f"{label}_{key}_ci_high": round(d[f"{key}_ci_high"], 4)}
    return out


def per_dataset(table: pd.DataFrame, classes: tuple[str, ...], resamples: int, seed: int) -> pd.DataFrame:
    """UF1 and UAR of every predictor per dataset, and over all of them (the composite set)."""
    scored = scored_rows(table)
    rows = []
    groups = [(d, scored[scored["dataset"] == d]) for d in sorted(scored["dataset"].unique())]
    if len(groups) > 1:
        groups.append(("all", scored))
    for dataset, part in groups:
        row: dict[str, Any] = {"dataset": dataset, "clips": len(part), "subjects": part["subject"].nunique()}
        for name, where in PREDICTORS:
            column = f"{name}_{where}"
            got = recognition(part["truth"].tolist(), part[column].tolist(), part["subject"].tolist(), classes,
                              resamples, seed)
            for key in ("uf1", "uar"):
                row |= {f"{column}_{key}": round(got[key], 4), f"{column}_{key}_ci_low": round(got[f"{key}_ci_low"], 4),
                        f"{column}_{key}_ci_high": round(got[f"{key}_ci_high"], 4)}
        rows.append(row)
    return pd.DataFrame(rows)


def summary(figures: dict[str, Any], scheme: str, classes: tuple[str, ...], left_out: int, folds: int,
            seconds: float) -> str:
    names = {"ours_spotted": "ours, spotted apex", "ours_coded": "ours, coded apex",
             "ststnet_spotted": "STSTNet, spotted apex", "ststnet_coded": "STSTNet, coded apex",
             "majority_any": "majority class"}
    lines = [f"recognise: {figures['scored_clips']} clips, {figures['scored_subjects']} subjects, {scheme} classes "
             f"({', '.join(classes)}), {folds} folds; {left_out} clip(s) left out (metrics/recognition_report.json); "
             f"{seconds:.0f} s",
             f"  {'predictor':<24}{'UF1':>22}{'UAR':>22}"]
    for column, label in names.items():
        cells = "".join(f"{figures[f'{column}_{k}']:>8.3f} [{figures[f'{column}_{k}_ci_low']:.3f}, "
                        f"{figures[f'{column}_{k}_ci_high']:.3f}]" for k in ("uf1", "uar"))
        lines.append(f"  {label:<24}{cells}")
    for label, text in (("ours_minus_majority", "ours - majority"), ("ours_minus_ststnet", "ours - STSTNet"),
                        ("spotted_minus_coded", "spotted - coded apex")):
        cells = "".join(f"{figures[f'{label}_{k}']:>+8.3f} [{figures[f'{label}_{k}_ci_low']:+.3f}, "
                        f"{figures[f'{label}_{k}_ci_high']:+.3f}]" for k in ("uf1", "uar"))
        lines.append(f"  {text:<24}{cells}")
    return "\n".join(lines)
