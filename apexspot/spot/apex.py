"""`apexspot spot RECORDING --onset A --offset B`: the apex between two frames.

The window goes through the pipeline's own face alignment and flow, with the settings the
models were trained with, and every fold model scores it; their scores are averaged and the
apex is spotted as in evaluation, never in a frame without a usable face. Everything that
can be checked (the models folder, the window, the plot path) is checked before TensorFlow
is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from apexspot.clips.apex import apex_index
from apexspot.core.config import AlignParams, FlowParams, SpotParams
from apexspot.core.errors import ApexspotError
from apexspot.spot.emotion import beside, emotion_line, recognise
from apexspot.spot.follow import follow, unusable_lines
from apexspot.spot.models import load_settings, model_files, model_kind
from apexspot.spot.plots import check_plot_path
from apexspot.spot.source import Window, frame_rate, read_window


@dataclass
class Spotted:
    """What `spot` found: the result a user reads, and the pictures behind it for --plot."""

    result: dict[str, Any]
    aligned: np.ndarray  # window frames, aligned, grey
    flow_uv: np.ndarray  # u, v from onset to apex, before resizing to the network input
    numbers: list[int]  # the recording's number of each window frame
    at: int  # the apex's position in the window


def check(source: str | Path, onset: int | None, offset: int | None, models: str | Path,
          plot: str | Path | None = None) -> tuple[list[Path], dict[str, Any], Window]:
    """Everything about the arguments that can be wrong, checked without TensorFlow: the plot
    path, the fold models, their settings and the window."""
    check_plot_path(plot, source)
    files = model_files(Path(models))
    if model_kind(files[0]) == "interval":
        raise ApexspotError(f"{models}: these are interval spotters for whole recordings (trained by `dvc repro "
                            f"recordings/dvc.yaml`); leave out --onset and --offset to list every expression, or "
                            f"give --models models (the apex spotters) for the apex in a window")
    return files, load_settings(Path(models), ("face", "flow", "spot", "recordings.track")), read_window(source, onset, offset)


def spot(source: str | Path, onset: int | None = None, offset: int | None = None,
         models: str | Path = "models", plot: str | Path | None = None, fps: float | None = None,
         recognisers: str | Path | None = None) -> Spotted:
    """Apex of the recording between `onset` and `offset`, both in the recording's numbering,
    never in a frame without a usable face, and the emotion of the onset->apex flow (by the
    classifiers in `recognisers`, default: recognisers/ beside the models folder)."""
    files, settings, clip = check(source, onset, offset, models, plot)
    rate, rate_from = frame_rate(clip, fps)
    followed = follow(clip, settings, rate)
    from apexspot.core.face import target_landmarks
    from apexspot.core.flow import apex_flow, clip_flow, flow_function

    face = AlignParams.from_params(settings.get("face"), "face")
    flow_params = FlowParams.from_params(settings.get("flow"), "flow")
    flow = clip_flow(followed.frames, target_landmarks(face), flow_params, dtype=np.float16)
    # Keras loads here: after the arguments are checked, and after the face detector's child
    # process has forked (it must start without this process's Keras backend).
    from apexspot.clips.trained import TrainedFold

    folds = [TrainedFold.load(f) for f in files]
    scores = np.mean([fold.scores(flow.flow) for fold in folds], axis=0)
    rule = SpotParams.from_params(settings.get("spot"), "spot")
    masked = np.where(followed.usable, scores, np.min(scores) - 1.0)  # never an apex without a face
    at = apex_index(masked, rule.method, rule.window)
    if not followed.usable[at]:  # the window rule's centre fell in an unusable frame: its best usable frame
        at = int(np.argmax(masked))
    uv = apex_flow(flow_function(flow_params.method), followed.frames, at,
                   flow.head if flow_params.remove_global else None)
    result = {"source": str(source), "numbering": "file name number" if clip.files else "0-based frame index",
              "onset": clip.onset, "offset": clip.offset, "apex": clip.numbers[at]}
    if clip.files:
        result |= {"onset_file": clip.files[0], "apex_file": clip.files[at], "offset_file": clip.files[-1]}
    result |= {"fps": rate, "fps_from": rate_from, "apex_seconds": round((clip.numbers[at] - clip.first) / rate, 4)}
    [(emotion, probability)], about = recognise(Path(recognisers) if recognisers else beside(models),
                                                flow.flow[at:at + 1].astype(np.float32))
    result |= {"class": emotion, "class_probability": probability} | about
    result |= {"frames": clip.length, "models": [f.name for f in files], "detector": "mtcnn, followed",
               "unusable": followed.unusable,
               "scores": [round(float(s), 6) if ok else None for s, ok in zip(scores, followed.usable)]}
    return Spotted(result, followed.frames, uv, clip.numbers, at)


def describe(result: dict[str, Any]) -> str:
    """What was found, in the recording's own terms, and where there was no face to look at."""
    if "apex_file" in result:
        where = f"apex at frame {result['apex']} ({result['apex_file']}, {result['apex_seconds']:.3f} s)"
    else:
        where = f"apex at frame {result['apex']} ({result['apex_seconds']:.3f} s at {result['fps']:g} fps)"
    lines = [f"{where}, window {result['onset']}..{result['offset']} ({result['numbering']}); "
             f"{len(result['models'])} fold models, face {result['detector']}"]
    if result.get("class"):
        lines.append(f"{result['class']} (probability {result['class_probability']:.2f}); {emotion_line(result, 1)}")
    else:
        lines.append(emotion_line(result, 1))
    lines += unusable_lines(result)
    return "\n".join(lines)
