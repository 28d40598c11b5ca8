"""`apexspot spot`: the trained spotter on a recording of your own.

The recording goes through the pipeline's own face alignment and flow, with the params the
models were trained with (models/params.yaml, written by the train stage), and every fold
model scores it; their scores are averaged and the apex is spotted as in evaluation.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from apexspot.config import AlignParams, FlowParams, SpotParams, read_yaml
from apexspot.errors import ApexspotError
from apexspot.evaluation import FoldModel
from apexspot.face import FaceDetector, FrameError, align_frames, read_frame
from apexspot.flow import clip_flow
from apexspot.spotting import apex_index

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff"}
FRAME_NAME = re.compile(r"^(?P<prefix>.*?)(?P<number>\d+)(?P<suffix>\.[A-Za-z]+)$")


def natural_key(path: Path) -> list:
    """img2 before img10."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.name)]


def window(onset: int | None, offset: int | None, length: int) -> tuple[int, int]:
    """The inclusive window, defaulting to the whole recording, or an error naming the bounds."""
    onset = 0 if onset is None else onset
    offset = length - 1 if offset is None else offset
    if not 0 <= onset < offset < length:
        raise ApexspotError(f"onset {onset} and offset {offset} must satisfy 0 <= onset < offset <= "
                            f"{length - 1} (the recording has {length} frames)")
    return onset, offset


def frame_files(folder: Path) -> list[Path]:
    """The clip's frames in a folder: image files named <prefix><number><suffix> with the
    folder's most common prefix and suffix, in frame-number order. Anything else (a
    thumbnail, a contact sheet, notes) is left out, with a message on stderr."""
    named = {}
    for path in folder.iterdir():
        match = FRAME_NAME.match(path.name)
        if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES and match:
            named[path] = (match["prefix"], match["suffix"].lower(), int(match["number"]))
    if not named:
        raise ApexspotError(f"{folder}: no image files named like frames (img46.jpg, 006_05562.jpg) in this folder")
    pattern = Counter(v[:2] for v in named.values()).most_common(1)[0][0]
    frames = sorted((p for p, v in named.items() if v[:2] == pattern), key=lambda p: named[p][2])
    others = sorted(p.name for p in folder.iterdir() if p not in frames)
    if others:
        print(f"apexspot spot: ignoring {len(others)} file(s) in {folder} that are not frames "
              f"{pattern[0]}<n>{pattern[1]}: {', '.join(others[:5])}", file=sys.stderr)
    return frames


def read_window(source: str | Path, onset: int | None = None,
                offset: int | None = None) -> tuple[list[np.ndarray], int, int, int]:
    """(frames onset..offset, recording length, onset, offset) of a video file (anything OpenCV
    reads) or a folder of images. Only the window's frames are kept in memory: a minute at
    200 fps is 12,000 frames."""
    source = Path(source)
    if source.is_dir():
        paths = frame_files(source)
        onset, offset = window(onset, offset, len(paths))
        frames = []
        try:
            for path in paths[onset:offset + 1]:
                frames.append(read_frame(path, color=True))
                if frames[-1].shape != frames[0].shape:
                    raise ApexspotError(f"{path} is {frames[-1].shape[1]}x{frames[-1].shape[0]}, but the onset "
                                        f"frame {paths[onset].name} is {frames[0].shape[1]}x{frames[0].shape[0]}")
        except FrameError as err:
            raise ApexspotError(err.detail) from None
        return frames, len(paths), onset, offset
    if not source.is_file():
        raise ApexspotError(f"{source}: no such video file or folder")
    video = cv2.VideoCapture(str(source))
    first, last = onset or 0, offset
    frames, length = [], 0
    while video.isOpened():
        ok, frame = video.read()
        if not ok:
            break
        if first <= length and (last is None or length <= last):
            frames.append(frame)
        length += 1
    video.release()
    if length == 0:
        raise ApexspotError(f"{source}: OpenCV cannot read any frame from this file (not a video it can decode)")
    onset, offset = window(onset, offset, length)
    return frames, length, onset, offset


def load_settings(models: Path, project: Path = Path("params.yaml")) -> dict[str, Any]:
    """Face and flow params the models were trained with (models/params.yaml, written by the
    train stage); the spotting rule from the project's params.yaml when there is one."""
    settings: dict[str, Any] = {}
    for path in (project, models / "params.yaml"):  # the model folder's own params win
        if path.exists():
            settings |= {k: v for k, v in (read_yaml(path) or {}).items() if v is not None}
    if "face" not in settings or "flow" not in settings:
        raise ApexspotError(f"no face/flow params in {models / 'params.yaml'} or {project}")
    return settings


def model_files(models: Path) -> list[Path]:
    files = sorted(models.glob("fold_*.keras"), key=natural_key) if models.is_dir() else []
    if not files:
        raise ApexspotError(f"{models}: no trained models (fold_<k>.keras); run `dvc repro` first")
    return files


def spot(source: str | Path, onset: int | None = None, offset: int | None = None,
         models: str | Path = "models") -> dict[str, Any]:
    """Apex of the recording between `onset` and `offset` (0-based frame positions, inclusive)."""
    models = Path(models)
    files = model_files(models)
    settings = load_settings(models)
    frames, length, onset, offset = read_window(source, onset, offset)
    try:
        aligned = align_frames(frames, FaceDetector(), AlignParams.from_params(settings.get("face"), "face"))
    except FrameError as err:
        raise ApexspotError(f"{source}: {err.detail}") from None
    flow = clip_flow(aligned.frames, aligned.aligned_landmarks, FlowParams.from_params(settings.get("flow"), "flow"))
    folds = [FoldModel.load(f) for f in files]
    scores = np.mean([fold.scores(flow.flow) for fold in folds], axis=0)
    rule = SpotParams.from_params(settings.get("spot"), "spot")
    return {"source": str(source), "onset": onset, "offset": offset,
            "apex": onset + apex_index(scores, rule.method, rule.window),
            "frames": length, "models": [f.name for f in files], "detector": aligned.detector,
            "scores": [round(float(s), 6) for s in scores]}


def plot(result: dict[str, Any], path: str | Path) -> None:
    """The averaged score curve with the apex marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frames = np.arange(result["onset"], result["offset"] + 1)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.plot(frames, result["scores"], label=f"mean score of {len(result['models'])} fold models")
    ax.axvline(result["apex"], color="red", linestyle=":", label=f"apex {result['apex']}")
    ax.set_xlabel("frame")
    ax.set_title(Path(result["source"]).name)
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
