"""`apexspot spot RECORDING`: every micro- and macro-expression in a whole recording, by the
long-recording pipeline's fold models."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from apexspot.core.config import RecordingFlowParams
from apexspot.core.errors import ApexspotError
from apexspot.spot.emotion import beside, emotion_line, recognise
from apexspot.spot.follow import follow, unusable_lines
from apexspot.spot.models import load_settings, model_files, model_kind
from apexspot.spot.plots import check_plot_path
from apexspot.spot.source import frame_rate, read_window


@dataclass
class Found:
    """What `spot` found in a whole recording: every interval, and the probabilities behind them."""

    result: dict[str, Any]
    numbers: list[int]  # the recording's number of each step
    probs: np.ndarray  # steps x 2 (micro, macro), mean of the fold models


def spot_intervals(source: str | Path, models: str | Path = "recordings/models", plot: str | Path | None = None,
                   fps: float | None = None, recognisers: str | Path | None = None) -> Found:
    """Every micro- and macro-expression in the recording, by the long-recording pipeline's
    fold models (their probabilities averaged, their fitted thresholds averaged), each with
    its emotion (by the classifiers in `recognisers`, default: recognisers/ beside the models)."""
    check_plot_path(plot, source)
    models = Path(models)
    files = model_files(models, "no trained interval spotters (fold_<k>.keras); run `dvc repro recordings/dvc.yaml` "
                               "first, or give --onset and --offset to spot one apex")
    if model_kind(files[0]) == "apex":
        raise ApexspotError(f"{models}: these are apex spotters for short clips; give --onset and --offset to spot "
                            f"the apex between them, or --models recordings/models (trained by `dvc repro "
                            f"recordings/dvc.yaml`) to list every expression in a whole recording")
    settings = load_settings(models, ("face", "recordings.track", "recordings.flow", "recordings.spotter"))
    clip = read_window(source, every_number=True)
    rate, rate_from = frame_rate(clip, fps)
    from apexspot.recordings.preprocess import too_short

    flow = RecordingFlowParams.from_params(settings["recordings"]["flow"], "recordings.flow")
    short = too_short(len(clip.numbers), rate, flow)
    if short:
        raise ApexspotError(f"{source}: {short}; no expression can be spotted in it")
    followed = follow(clip, settings, rate, keep_frames=False, flow=flow)
    from apexspot.recordings.sequences import Sequence
    from apexspot.recordings.spotter import IntervalSpotter, load

    f = followed.features
    seq = Sequence(str(source), "", "", rate, np.asarray(clip.numbers), f.positions, f.features, f.valid, f.usable,
                   {"micro": [], "macro": []}, {})
    loaded = [load(path) for path in files]
    probs = np.mean([s.score(m, seq)[1] for m, s in loaded], axis=0)
    mean = {key: {k: float(np.mean([s.state()[key][k] for _, s in loaded])) for k in ("micro", "macro")}
            for key in ("thresholds", "min_s")}
    spotter = IntervalSpotter(loaded[0][1].p, mean)
    first = clip.first
    spotted = spotter.intervals(f.positions, probs, seq)
    from apexspot.recognition.recordings import reading_step

    emotions, about = recognise(Path(recognisers) if recognisers else beside(models),
                                seq.inputs(np.array([reading_step(seq, s.span) for s in spotted], np.int64)))
    intervals = [{"kind": s.kind, "onset": clip.numbers[s.onset], "apex": clip.numbers[s.apex],
                  "offset": clip.numbers[s.offset], "onset_s": round((clip.numbers[s.onset] - first) / rate, 3),
                  "apex_s": round((clip.numbers[s.apex] - first) / rate, 3),
                  "offset_s": round((clip.numbers[s.offset] - first + 1) / rate, 3), "confidence": s.confidence,
                  "class": c, "class_probability": q}
                 for s, (c, q) in zip(spotted, emotions)]
    result = {"source": str(source), "numbering": "file name number" if clip.files else "0-based frame index",
              "frames": clip.length, "fps": rate, "fps_from": rate_from, "intervals": intervals,
              "unusable": followed.unusable, "models": [p.name for p in files],
              "thresholds": mean["thresholds"]} | about
    return Found(result, [clip.numbers[i] for i in f.positions], probs)


def describe_intervals(result: dict[str, Any]) -> str:
    found = result["intervals"]
    lines = [f"{len(found)} expression(s) in {Path(result['source']).name} ({result['frames']} frames at "
             f"{result['fps']:g} fps, {result['numbering']}; {len(result['models'])} fold models):"]
    lines.append(f"  {'type':<7}{'onset':>8}{'apex':>8}{'offset':>8}{'seconds':>18}{'confidence':>12}  emotion")
    for i in found:
        seconds = f"{i['onset_s']:.2f}-{i['offset_s']:.2f}"
        emotion = f"{i['class']} ({i['class_probability']:.2f})" if i.get("class") else "-"
        lines.append(f"  {i['kind']:<7}{i['onset']:>8}{i['apex']:>8}{i['offset']:>8}{seconds:>18}"
                     f"{i['confidence']:>12.2f}  {emotion}")
    return "\n".join(lines + [emotion_line(result, len(found))] + unusable_lines(result))
