"""`apexspot export`: what a recognition model needs from a finished run.

For every held-out clip of metrics/predictions.csv: the aligned onset frame, the aligned
apex frame (spotted by the model, or the coders' with `--apex true`) and the optical flow
from one to the other at the aligned frames' resolution with head motion removed, as the
flow stage computes it. One .npz per clip and three PNGs, and index.csv with the labels and
the class the recognise stage's classifier gave the clip at the same apex (with its
probability). The folder appears only when everything is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import cv2
import numpy as np
import pandas as pd

from apexspot.core import arrayfiles
from apexspot.core.config import FlowParams
from apexspot.core.console import progress
from apexspot.core.errors import ApexspotError
from apexspot.core.files import atomic_path
from apexspot.core.flow import apex_flow, flow_function, to_hsv_image
from apexspot.core.licensed import refuse_if_git_would_add

LABELS = ["clip_id", "subject", "identity", "dataset", "fold", "emotion", "action_units", "objective_class",
          "onset", "offset", "apex"]


def read_predictions(path: Path) -> pd.DataFrame:
    """The evaluate stage's table, or an error saying what is missing."""
    try:
        table = pd.read_csv(path, dtype={"subject": str, "action_units": str, "objective_class": str},
                            keep_default_na=False)
    except FileNotFoundError:
        raise ApexspotError(f"{path}: missing (run the pipeline first: `dvc repro`)") from None
    missing = [c for c in LABELS + ["model"] if c not in table.columns]
    if missing:
        raise ApexspotError(f"{path}: no column(s) {missing}; rerun evaluate (`dvc repro`) with this version")
    return table


def read_classes(path: Path, apex: str) -> dict[str, tuple[str, float | None]]:
    """clip id -> (class, probability) from the recognise stage's table, at the spotted or coded
    apex (blank where the clip's fold had no classifier: nothing of a mapped emotion to train on)."""
    column = "ours_spotted" if apex == "spotted" else "ours_coded"
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise ApexspotError(f"{path}: missing (run the pipeline first: `dvc repro`)") from None
    if not {"clip_id", column, f"{column}_probability"} <= set(table.columns):
        raise ApexspotError(f"{path}: no column {column}; rerun recognise (`dvc repro`) with this version")
    return {r["clip_id"]: (r[column], float(r[f"{column}_probability"]) if r[f"{column}_probability"] else None)
            for r in table.to_dict("records")}


def export_clip(row: dict[str, Any], apex: int, data: Path, out: Path, p: FlowParams,
                compute: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> dict[str, Any]:
    """Write one clip's onset, apex and onset->apex flow; return its row of index.csv."""
    parts = Path(str(row["clip_id"])).parts
    if not parts or Path(str(row["clip_id"])).is_absolute() or ".." in parts:
        raise ApexspotError(f"clip id {row['clip_id']!r} is not a relative path inside the export folder")
    aligned = arrayfiles.load(arrayfiles.clip_file(data / "aligned", row["clip_id"]))
    frames = aligned["frames"]
    at = apex - int(row["onset"])
    if not 0 <= at < len(frames):
        raise ApexspotError(f"{row['clip_id']}: apex {apex} outside its {len(frames)} aligned frames "
                            f"from onset {row['onset']}")
    head = arrayfiles.load(arrayfiles.clip_file(data / "flow", row["clip_id"]))["head"] if p.remove_global else None
    uv = apex_flow(compute, frames, at, head)
    base = out / row["clip_id"]
    base.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(base.with_suffix(".npz"), onset=frames[0], apex=frames[at], flow=uv.astype(np.float32),
                        onset_frame=np.int32(row["onset"]), apex_frame=np.int32(apex))
    pictures = {"onset": frames[0], "apex": frames[at], "flow": to_hsv_image(uv)}
    for name, image in pictures.items():
        cv2.imwrite(f"{base}_{name}.png", image)
    rel = base.relative_to(out).as_posix()
    return {**{k: row[k] for k in LABELS}, "exported_apex": apex, "spotted_apex": int(row["model"]),
            "npz": f"{rel}.npz", **{f"{name}_png": f"{rel}_{name}.png" for name in pictures}}


def export(out: str | Path, predictions: str | Path, data: str | Path, flow: FlowParams,
           apex: str = "spotted", recognition: str | Path = "metrics/recognition_predictions.csv") -> pd.DataFrame:
    """Export every clip of the run; returns index.csv's table."""
    out, data = Path(out), Path(data)
    refuse_if_git_would_add(out, "the exported onset and apex frames")
    if out.exists() and any(out.iterdir()):
        raise ApexspotError(f"{out}: folder exists and is not empty (choose another or remove it)")
    table = read_predictions(Path(predictions))
    classes = read_classes(Path(recognition), apex)
    unclassified = [c for c in table["clip_id"] if c not in classes]
    if unclassified:
        raise ApexspotError(f"{recognition}: no class for {len(unclassified)} clip(s) of {predictions} (first: "
                            f"{unclassified[0]}); the two files come from different runs (`dvc repro`)")
    compute = flow_function(flow.method)  # one flow object for every clip
    with atomic_path(out, folder=True) as work:
        rows = [export_clip(row, int(row["model"] if apex == "spotted" else row["apex"]), data, work, flow, compute)
                | dict(zip(("predicted_class", "class_probability"), classes[row["clip_id"]]))
                for row in progress(table.to_dict("records"), desc="export", unit="clip")]
        index = pd.DataFrame(rows)
        index.to_csv(work / "index.csv", index=False)
    return index
