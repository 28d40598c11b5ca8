"""`apexspot export`: onset, spotted apex and the flow between them, for recognition."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from defaults import PARAMS

from apexspot.clips.export import export
from apexspot.core import arrayfiles
from apexspot.core.errors import ApexspotError


def textured(shift: int) -> np.ndarray:
    """A smooth random texture moved `shift` pixels to the right."""
    rng = np.random.default_rng(0)
    base = cv2.GaussianBlur(rng.integers(0, 255, (128, 160)).astype(np.uint8), (0, 0), 3)
    base = cv2.normalize(base, None, 0, 255, cv2.NORM_MINMAX)
    return np.ascontiguousarray(base[:, 16 - shift:144 - shift])


def run(tmp_path: Path) -> Path:
    """A finished run in miniature: aligned frames, flow files with head motion, predictions."""
    clip_id = "casme2/sub01/EP02_01f"
    frames = np.stack([textured(0), textured(1), textured(3), textured(1)])  # onset 46, true apex 48
    arrayfiles.save(arrayfiles.clip_file(tmp_path / "data/aligned", clip_id), frames=frames,
                   frame_numbers=np.arange(46, 50))
    head = np.repeat(np.array([[[1, 0, 0], [0, 1, 0]]], np.float32), 4, 0)
    arrayfiles.save(arrayfiles.clip_file(tmp_path / "data/flow", clip_id), head=head)
    pd.DataFrame([{"clip_id": clip_id, "subject": "01", "identity": "01", "dataset": "casme2", "fold": 0,
                   "onset": 46, "offset": 49, "apex": 48, "emotion": "happiness", "action_units": "12",
                   "objective_class": "1", "model": 47, "centre": 47, "error": 1}]).to_csv(
        tmp_path / "predictions.csv", index=False)
    pd.DataFrame([{"clip_id": clip_id, "ours_spotted": "positive", "ours_spotted_probability": 0.8,
                   "ours_coded": "negative", "ours_coded_probability": 0.6}]).to_csv(tmp_path / "classes.csv", index=False)
    return tmp_path


def test_export_writes_frames_flow_and_a_labelled_index(tmp_path: Path) -> None:
    root = run(tmp_path)
    index = export(root / "out", root / "predictions.csv", root / "data", PARAMS.flow.replace(method="farneback"),
                   recognition=root / "classes.csv")
    row = pd.read_csv(root / "out/index.csv", dtype=str).iloc[0]
    assert row["predicted_class"] == "positive" and row["class_probability"] == "0.8"  # at the spotted apex
    assert row["emotion"] == "happiness" and row["action_units"] == "12" and row["objective_class"] == "1"
    assert row["subject"] == "01" and row["exported_apex"] == "47" and row["spotted_apex"] == "47"
    assert row["apex"] == "48" and len(index) == 1
    data = np.load(root / "out" / row["npz"], allow_pickle=False)
    assert data["onset"].shape == (128, 128) and data["apex"].shape == (128, 128)
    assert np.array_equal(data["apex"], textured(1)) and int(data["apex_frame"]) == 47
    u = data["flow"][32:96, 32:96, 0]
    assert data["flow"].shape == (128, 128, 2) and 0.7 < float(np.median(u)) < 1.3  # the 1-pixel shift
    for column in ("onset_png", "apex_png", "flow_png"):
        assert cv2.imread(str(root / "out" / row[column])).shape[:2] == (128, 128)


def test_export_of_the_true_apex(tmp_path: Path) -> None:
    root = run(tmp_path)
    export(root / "out", root / "predictions.csv", root / "data", PARAMS.flow, apex="true",
           recognition=root / "classes.csv")
    assert pd.read_csv(root / "out/index.csv")["predicted_class"].tolist() == ["negative"]  # at the coded apex
    data = np.load(root / "out/casme2/sub01/EP02_01f.npz", allow_pickle=False)
    assert int(data["apex_frame"]) == 48 and np.array_equal(data["apex"], textured(3))
    assert 2.5 < float(np.median(data["flow"][32:96, 32:96, 0])) < 3.5


@pytest.mark.parametrize("case,message", [
    ("not_empty", "exists and is not empty"),
    ("no_run", "missing (run the pipeline first"),
    ("escape", "is not a relative path inside the export folder"),
    ("other_run", "no class for 1 clip"),
])
def test_export_refuses_and_leaves_nothing_half_written(tmp_path: Path, case: str, message: str) -> None:
    root = run(tmp_path)
    if case in ("escape", "other_run"):  # a clip id that would write outside the export folder; another run's
        for name in ("predictions.csv", "classes.csv")[: 2 if case == "escape" else 1]:
            table = pd.read_csv(root / name)
            table.loc[0, "clip_id"] = "../../outside"
            table.to_csv(root / name, index=False)
    if case == "not_empty":
        (root / "out").mkdir()
        (root / "out/keep.txt").write_text("mine")
    predictions = root / ("nothing.csv" if case == "no_run" else "predictions.csv")
    with pytest.raises(ApexspotError, match=message.replace("(", r"\(")):
        export(root / "out", predictions, root / "data", PARAMS.flow, recognition=root / "classes.csv")
    left = sorted(p.name for p in root.iterdir())
    assert left == ["classes.csv", "data"] + (["out"] if case == "not_empty" else []) + ["predictions.csv"]
    if case == "not_empty":
        assert [p.name for p in (root / "out").iterdir()] == ["keep.txt"]


@pytest.mark.parametrize("folder", [False, True])
def test_an_interrupted_cli_write_leaves_neither_output_nor_temporary(tmp_path: Path, folder: bool) -> None:
    from apexspot.core.files import atomic_path

    target = tmp_path / ("out" if folder else "plot.png")
    with pytest.raises(RuntimeError):
        with atomic_path(target, folder=folder) as tmp:
            (tmp / "a.txt" if folder else tmp).write_text("half")
            raise RuntimeError("disk full")
    assert list(tmp_path.iterdir()) == []
    with atomic_path(target, folder=folder) as tmp:
        (tmp / "a.txt" if folder else tmp).write_text("whole")
    assert [p.name for p in tmp_path.iterdir()] == [target.name]
