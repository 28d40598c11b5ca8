"""`apexspot spot`: the trained spotter on a recording of your own.

The recording goes through the pipeline's own face alignment and flow, with the params the
models were trained with (models/params.yaml, written by the train stage), and every fold
model scores it; their scores are averaged and the apex is spotted as in evaluation.

Frames are named as the recording names them: in a folder, by the number in each file name
(a CASME II clip folder gives the coding sheet's frame numbers); in a video, by the 0-based
frame index (and the time in seconds). Everything that can be checked (the models folder,
the window) is checked before TensorFlow is loaded.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import cv2
import numpy as np

from apexspot.clips.apex import apex_index
from apexspot.core.config import AlignParams, FlowParams, SpotParams, read_yaml
from apexspot.core.errors import ApexspotError
from apexspot.core.face import FrameError, read_frame
from apexspot.core.files import atomic_path
from apexspot.core.frames import BadFrame, count_video_frames, read_video
from apexspot.core.licensed import EXPORTS, refuse_if_git_would_add
from apexspot.recordings.recording import number_ranges

PLOT_MARK = "apexspot spot"  # the PNG's Software text: a file that says it is ours may be written over

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff"}
FRAME_NAME = re.compile(r"^(?P<prefix>.*?)(?P<number>\d+)(?P<suffix>\.[A-Za-z]+)$")


def natural_key(path: Path) -> list:
    """img2 before img10."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.name)]


def window(onset: int | None, offset: int | None, numbers: list[int]) -> tuple[int, int]:
    """Positions (0-based, inclusive) of the frames numbered `onset` and `offset` (default:
    the first and the last), or an error naming the recording's own numbers."""
    first, last = numbers[0], numbers[-1]
    onset = first if onset is None else onset
    offset = last if offset is None else offset
    if not first <= onset < offset <= last:
        raise ApexspotError(f"onset {onset} and offset {offset} must satisfy {first} <= onset < offset <= {last} "
                            f"(the recording's frames are numbered {first}..{last}, {len(numbers)} frames)")
    position = {n: i for i, n in enumerate(numbers)}
    for name, number in (("onset", onset), ("offset", offset)):
        if number not in position:
            raise ApexspotError(f"no frame numbered {number} (--{name}) in the recording: its frames are numbered "
                                f"{first}..{last} with gaps")
    return position[onset], position[offset]


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
    frames = sorted((p for p, v in named.items() if v[:2] == pattern), key=lambda p: (named[p][2], p.name))
    clash = next(((a, b) for a, b in zip(frames, frames[1:]) if named[a][2] == named[b][2]), None)
    if clash:
        raise ApexspotError(f"{clash[0]} and {clash[1]} are both frame {named[clash[0]][2]}: remove or rename one "
                            f"(one file per frame number)")
    others = sorted(p.name for p in folder.iterdir() if p not in frames)
    if others:
        print(f"apexspot spot: ignoring {len(others)} file(s) in {folder} that are not frames "
              f"{pattern[0]}<n>{pattern[1]}: {', '.join(others[:5])}", file=sys.stderr)
    return frames


def gaps(numbers: list[int]) -> list[tuple[int, int]]:
    """(first, last) of every run of frame numbers missing between consecutive files."""
    return [(a + 1, b - 1) for a, b in zip(numbers, numbers[1:]) if b - a > 1]


@dataclass
class Window:
    """The frames between onset and offset of a recording, read one at a time when needed
    (a minute at 200 fps is 12,000 frames: 11 GB of 640x480 colour frames if held at once)."""

    source: Path
    numbers: list[int]  # the recording's number of each frame in the window
    length: int  # frames in the whole recording
    paths: list[Path | None] = field(default_factory=list)  # a folder's file of each frame (None: no such file)
    fps: float | None = None  # a video's frame rate, when it states one
    start: int = 0  # position of the window's first frame in the recording
    first: int = 0  # the number of the recording's first frame (seconds count from it)

    @property
    def onset(self) -> int:
        return self.numbers[0]

    @property
    def offset(self) -> int:
        return self.numbers[-1]

    @property
    def files(self) -> list[str]:
        return [p.name if p else "" for p in self.paths]

    def frames(self) -> Iterator[np.ndarray | BadFrame]:
        """The window's frames (BGR), one at a time; a frame that cannot be looked at is a
        BadFrame naming it (no file, a damaged file or video frame, another size than the
        first readable frame), which the face follower counts as unusable."""
        if self.paths:
            first: tuple[int, ...] | None = None
            name = ""
            for number, path in zip(self.numbers, self.paths):
                if path is None:
                    yield BadFrame("missing_frame", f"{self.source}: no frame numbered {number}")
                    continue
                try:
                    frame = read_frame(path, color=True)
                except FrameError as err:
                    yield BadFrame(err.reason, err.detail)
                    continue
                if first is None:
                    first, name = frame.shape, path.name
                if frame.shape != first:
                    yield BadFrame("frame_size", f"{path} is {frame.shape[1]}x{frame.shape[0]}; the recording's "
                                                 f"frames are {first[1]}x{first[0]} (as {name})")
                    continue
                yield frame
            return
        yield from read_video(self.source, self.start, len(self.numbers))


def one_frame(source: Path, length: int) -> None:
    if length == 1:
        raise ApexspotError(f"{source}: has one frame; spotting reads motion between frames, so give a recording "
                            f"of several")


def read_window(source: str | Path, onset: int | None = None, offset: int | None = None,
                every_number: bool = False) -> Window:
    """The window onset..offset (in the recording's numbering) of a video file (anything
    OpenCV reads) or a folder of images. Nothing is decoded here but a video's frame count:
    what the numbering says is checked before any model loads, and what the recording hides
    (gaps in a folder's numbering, a video shorter than its header says) is said on stderr.
    With `every_number`, a folder's window holds every number from its first to its last,
    a missing one as a frame without a file (unusable), so time stays uniform."""
    source = Path(source)
    if source.is_dir():
        paths = frame_files(source)
        numbers = [int(FRAME_NAME.match(p.name)["number"]) for p in paths]
        one_frame(source, len(numbers))
        if every_number:
            by_number = dict(zip(numbers, paths))
            whole = list(range(numbers[0], numbers[-1] + 1))
            missing = len(whole) - len(numbers)
            if missing:
                print(f"apexspot spot: {source}: no frame numbered {number_ranges(set(whole) - set(numbers))} "
                      f"({missing} missing): no face there", file=sys.stderr)
            return Window(source, whole, len(whole), [by_number.get(n) for n in whole], first=numbers[0])
        start, stop = window(onset, offset, numbers)
        missing = gaps(numbers[start:stop + 1])
        if missing:
            where = ", ".join(f"{a}..{b}" if b > a else f"{a}" for a, b in missing[:5])
            print(f"apexspot spot: {source}: no frame numbered {where} ({sum(b - a + 1 for a, b in missing)} "
                  f"missing in the window): scores run over the files as they are, so time is not uniform there",
                  file=sys.stderr)
        return Window(source, numbers[start:stop + 1], len(paths), paths[start:stop + 1], first=numbers[0])
    if not source.is_file():
        raise ApexspotError(f"{source}: no such video file or folder")
    length, claimed, fps = count_video_frames(source)
    if length == 0:
        raise ApexspotError(f"{source}: OpenCV cannot read any frame from this file (not a video it can decode)")
    one_frame(source, length)
    if claimed and claimed != length:
        print(f"apexspot spot: {source}: its header says {claimed} frames, but {length} can be decoded; "
              f"frames 0..{length - 1} are used", file=sys.stderr)
    start, stop = window(onset, offset, list(range(length)))
    return Window(source, list(range(start, stop + 1)), length, fps=fps, start=start)


def load_settings(models: Path, project: Path = Path("params.yaml"),
                  required: tuple[str, ...] = ("face", "flow")) -> dict[str, Any]:
    """Face and flow params the models were trained with (models/params.yaml, written by the
    train stage); the spotting rule from the project's params.yaml when there is one."""
    settings: dict[str, Any] = {}
    for path in (project, models / "params.yaml"):  # the model folder's own params win
        if path.exists():
            settings |= {k: v for k, v in (read_yaml(path) or {}).items() if v is not None}
    if any(key not in settings for key in required):
        raise ApexspotError(f"no {'/'.join(required)} params in {models / 'params.yaml'} or {project}")
    return settings


def model_kind(path: Path) -> str:
    """'apex' for a short-clip spotter's record (it names a variant), 'interval' for a
    recording spotter's (it holds thresholds), '' when the record says neither (or is
    unreadable: loading it says why)."""
    import json

    try:
        record = json.loads(path.with_suffix(".json").read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        return ""
    if not isinstance(record, dict):
        return ""
    return "apex" if "variant" in record else "interval" if "thresholds" in record else ""


def model_files(models: Path, missing: str = "no trained models (fold_<k>.keras); run `dvc repro` first") -> list[Path]:
    files = sorted(models.glob("fold_*.keras"), key=natural_key) if models.is_dir() else []
    if not files:
        raise ApexspotError(f"{models}: {missing}")
    return files


@dataclass
class Spotted:
    """What `spot` found: the result a user reads, and the pictures behind it for --plot."""

    result: dict[str, Any]
    aligned: np.ndarray  # window frames, aligned, grey
    flow_uv: np.ndarray  # u, v from onset to apex, before resizing to the network input
    numbers: list[int]  # the recording's number of each window frame
    at: int  # the apex's position in the window


def our_plot(path: Path) -> bool:
    """Whether `path` is a PNG an earlier `spot --plot` wrote (it says so in its Software text)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return image.format == "PNG" and image.info.get("Software") == PLOT_MARK
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return False


def check_plot_path(path: str | Path | None, source: str | Path | None = None) -> None:
    """--plot names a new PNG file (or an earlier plot of ours) in an existing folder, outside
    the recording's own folder: a user's file is never written over. Said before any work."""
    if path is None:
        return
    path = Path(path)
    if path.is_dir():
        raise ApexspotError(f"--plot {path}: is a folder; name the PNG file to write (e.g. {path / 'spotted.png'})")
    if source is not None:
        source = Path(source).resolve()
        if path.resolve() == source or (source.is_dir() and path.resolve().is_relative_to(source)):
            raise ApexspotError(f"--plot {path}: inside the recording {source}; the plot is written elsewhere, so "
                                f"the recording's files are never touched")
    if path.parent.resolve() == EXPORTS.resolve():
        EXPORTS.mkdir(exist_ok=True)
    if not path.parent.is_dir():
        raise ApexspotError(f"--plot {path}: no folder {path.parent} to write it in")
    if path.suffix.lower() != ".png":
        raise ApexspotError(f"--plot {path}: the picture is a PNG; name it <something>.png")
    if path.exists() and not our_plot(path):
        raise ApexspotError(f"--plot {path}: a file that is not an earlier plot of apexspot spot is there; it is "
                            f"not written over: name a new file")
    refuse_if_git_would_add(path, "the plot's aligned frames")


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
    return files, load_settings(Path(models)), read_window(source, onset, offset)


def frame_rate(clip: Window, fps: float | None) -> tuple[float, str]:
    """The recording's frame rate and where it came from: --fps, the video's header, or the
    200 fps of CASME II and SAMM for a folder (said in the result)."""
    if fps is not None:
        return float(fps), "--fps"
    if clip.fps:
        return clip.fps, "video header"
    return 200.0, "assumed (a folder of frames states none; give --fps)"


@dataclass
class Followed:
    """The window's face, followed: aligned frames (a copy of the nearest usable frame where
    the face is unusable), which frames are usable, and the unusable spans."""

    frames: np.ndarray  # T x S x S uint8
    usable: np.ndarray  # T bool
    unusable: list[dict[str, Any]]
    features: Any  # the long-recording flow (apexspot.recordings.preprocess.RecordingFlow)


def follow(clip: Window, settings: dict[str, Any], fps: float, keep_frames: bool = True) -> Followed:
    """The face tracked through the window (as the long-recording pipeline does), with MTCNN
    in a child process; raises ApexspotError when no frame has a usable face."""
    from apexspot.core.config import RecordingFlowParams, TrackParams
    from apexspot.core.face import ForkedDetector
    from apexspot.recordings.preprocess import mtcnn_only, process, span_records, video_frames

    face = AlignParams.from_params(settings.get("face"), "face")
    recordings = settings.get("recordings") or {}
    track = TrackParams.from_params(recordings.get("track"), "recordings.track")
    flow = RecordingFlowParams.from_params(recordings.get("flow"), "recordings.flow")
    n = len(clip.numbers)
    aligned: dict[int, np.ndarray] = {}
    with ForkedDetector(face.min_confidence) as detector:
        try:
            result = process(video_frames(clip.frames()), n, fps, mtcnn_only(detector), face, track, flow,
                             on_aligned=(lambda i, frame: aligned.__setitem__(i, frame)) if keep_frames else None)
        except FrameError as err:
            raise ApexspotError(f"{clip.source}: {err.detail}") from None
    spans = span_records(result.reasons, clip.numbers, fps, clip.first, result.covered, result.details)
    good = np.flatnonzero(result.usable)
    if good.size == 0:
        where = "; ".join(f"{s['first']}..{s['last']} {s['reason']}" for s in spans)
        raise ApexspotError(f"{clip.source}: no usable face in frames {clip.onset}..{clip.offset} ({where}): "
                            f"nothing to spot")
    frames = np.empty((n if keep_frames else 0, face.size, face.size), np.uint8)
    # each frame, or the last usable one before it (the first usable one, before any)
    nearest = good[np.maximum(np.searchsorted(good, np.arange(len(frames)), side="right") - 1, 0)]
    for i, j in enumerate(nearest):
        frames[i] = aligned[int(j)]
    return Followed(frames, result.usable, spans, result)


def spot(source: str | Path, onset: int | None = None, offset: int | None = None,
         models: str | Path = "models", plot: str | Path | None = None, fps: float | None = None) -> Spotted:
    """Apex of the recording between `onset` and `offset`, both in the recording's numbering,
    never in a frame without a usable face."""
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
    result |= {"frames": clip.length, "models": [f.name for f in files], "detector": "mtcnn, followed",
               "unusable": followed.unusable,
               "scores": [round(float(s), 6) if ok else None for s, ok in zip(scores, followed.usable)]}
    return Spotted(result, followed.frames, uv, clip.numbers, at)


@dataclass
class Found:
    """What `spot` found in a whole recording: every interval, and the probabilities behind them."""

    result: dict[str, Any]
    numbers: list[int]  # the recording's number of each step
    probs: np.ndarray  # steps x 2 (micro, macro), mean of the fold models


def spot_intervals(source: str | Path, models: str | Path = "recordings/models", plot: str | Path | None = None,
                   fps: float | None = None) -> Found:
    """Every micro- and macro-expression in the recording, by the long-recording pipeline's
    fold models (their probabilities averaged, their fitted thresholds averaged)."""
    check_plot_path(plot, source)
    models = Path(models)
    files = model_files(models, "no trained interval spotters (fold_<k>.keras); run `dvc repro recordings/dvc.yaml` "
                               "first, or give --onset and --offset to spot one apex")
    if model_kind(files[0]) == "apex":
        raise ApexspotError(f"{models}: these are apex spotters for short clips; give --onset and --offset to spot "
                            f"the apex between them, or --models recordings/models (trained by `dvc repro "
                            f"recordings/dvc.yaml`) to list every expression in a whole recording")
    settings = load_settings(models, required=("face", "recordings"))
    clip = read_window(source, every_number=True)
    rate, rate_from = frame_rate(clip, fps)
    from apexspot.core.config import RecordingFlowParams
    from apexspot.recordings.preprocess import too_short

    short = too_short(len(clip.numbers), rate, RecordingFlowParams.from_params(
        (settings.get("recordings") or {}).get("flow"), "recordings.flow"))
    if short:
        raise ApexspotError(f"{source}: {short}; no expression can be spotted in it")
    followed = follow(clip, settings, rate, keep_frames=False)
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
    intervals = [{"kind": s.kind, "onset": clip.numbers[s.onset], "apex": clip.numbers[s.apex],
                  "offset": clip.numbers[s.offset], "onset_s": round((clip.numbers[s.onset] - first) / rate, 3),
                  "apex_s": round((clip.numbers[s.apex] - first) / rate, 3),
                  "offset_s": round((clip.numbers[s.offset] - first + 1) / rate, 3), "confidence": s.confidence}
                 for s in spotter.intervals(f.positions, probs, seq)]
    result = {"source": str(source), "numbering": "file name number" if clip.files else "0-based frame index",
              "frames": clip.length, "fps": rate, "fps_from": rate_from, "intervals": intervals,
              "unusable": followed.unusable, "models": [p.name for p in files],
              "thresholds": mean["thresholds"]}
    return Found(result, [clip.numbers[i] for i in f.positions], probs)


def describe_intervals(result: dict[str, Any]) -> str:
    found = result["intervals"]
    lines = [f"{len(found)} expression(s) in {Path(result['source']).name} ({result['frames']} frames at "
             f"{result['fps']:g} fps, {result['numbering']}; {len(result['models'])} fold models):"]
    lines.append(f"  {'type':<7}{'onset':>8}{'apex':>8}{'offset':>8}{'seconds':>18}{'confidence':>12}")
    for i in found:
        seconds = f"{i['onset_s']:.2f}-{i['offset_s']:.2f}"
        lines.append(f"  {i['kind']:<7}{i['onset']:>8}{i['apex']:>8}{i['offset']:>8}{seconds:>18}{i['confidence']:>12.2f}")
    return "\n".join(lines + unusable_lines(result))


def plot_intervals(found: Found, path: str | Path) -> None:
    """The two probabilities over the recording, the thresholds, the spotted intervals and the
    spans without a usable face."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    r = found.result
    fig, ax = plt.subplots(figsize=(14, 3.6))
    for k, (kind, colour) in enumerate((("micro", "tab:red"), ("macro", "tab:blue"))):
        ax.plot(found.numbers, found.probs[:, k], color=colour, lw=1, label=f"p({kind})")
        ax.axhline(r["thresholds"][kind], color=colour, lw=0.6, ls=":")
        for i, interval in enumerate(x for x in r["intervals"] if x["kind"] == kind):
            ax.axvspan(interval["onset"] - 0.5, interval["offset"] + 0.5, color=colour, alpha=0.2,
                       label=f"spotted {kind}" if i == 0 else None)
    shade_unusable(ax, r.get("unusable") or [])
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("frame (" + r["numbering"] + ")")
    ax.set_ylabel("probability (mean of the fold models)")
    ax.set_title(f"{Path(r['source']).name}: {len(r['intervals'])} expression(s)", fontsize=9)
    ax.legend(fontsize=7, ncol=4, loc="upper right")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, bbox_inches="tight", format="png", metadata={"Software": PLOT_MARK})
    plt.close(fig)


def describe(result: dict[str, Any]) -> str:
    """What was found, in the recording's own terms, and where there was no face to look at."""
    if "apex_file" in result:
        where = f"apex at frame {result['apex']} ({result['apex_file']}, {result['apex_seconds']:.3f} s)"
    else:
        where = f"apex at frame {result['apex']} ({result['apex_seconds']:.3f} s at {result['fps']:g} fps)"
    lines = [f"{where}, window {result['onset']}..{result['offset']} ({result['numbering']}); "
             f"{len(result['models'])} fold models, face {result['detector']}"]
    lines += unusable_lines(result)
    return "\n".join(lines)


def unusable_lines(result: dict[str, Any]) -> list[str]:
    from apexspot.recordings.preprocess import describe_span

    spans = result.get("unusable") or []
    if not spans:
        return []
    total = sum(s["frames"] for s in spans)
    out = [f"no usable face in {total} frame(s), {len(spans)} span(s); nothing is spotted there:"]
    out += [f"  frames {s['first']}..{s['last']} ({s['start_s']:.2f}-{s['end_s']:.2f} s): {describe_span(s)}"
            for s in spans]
    return out


def plot(spotted: Spotted, path: str | Path) -> None:
    """Onset | spotted apex | flow at the apex (with its colour key), beside the score curve."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from apexspot.core.flow import colour_key, to_hsv_image

    r = spotted.result
    fig, axes = plt.subplots(1, 5, figsize=(17, 3.4), gridspec_kw={"width_ratios": [1, 1, 1, 0.45, 2.2]})
    def file(key: str) -> str:
        return f" ({r[key + '_file']})" if key + "_file" in r else ""

    panels = [(spotted.aligned[0], f"onset {r['onset']}{file('onset')}"),
              (spotted.aligned[spotted.at], f"spotted apex {r['apex']}{file('apex')}"),
              (cv2.cvtColor(to_hsv_image(spotted.flow_uv), cv2.COLOR_BGR2RGB), "flow onset -> apex"),
              (cv2.cvtColor(colour_key(64), cv2.COLOR_BGR2RGB), "direction key")]
    for ax, (image, title) in zip(axes, panels):
        ax.imshow(image, cmap="gray" if image.ndim == 2 else None)
        ax.set_title(title, fontsize=8)
        ax.axis("off")
    ax = axes[-1]
    scores = [np.nan if s is None else s for s in r["scores"]]
    ax.plot(spotted.numbers, scores, label=f"mean score of {len(r['models'])} fold models")
    ax.axvline(r["apex"], color="red", linestyle=":", label=f"apex {r['apex']}")
    shade_unusable(ax, r.get("unusable") or [])
    ax.set_xlabel("frame (" + r["numbering"] + ")")
    ax.set_title(Path(r["source"]).name, fontsize=9)
    ax.legend(fontsize=8)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, bbox_inches="tight", format="png", metadata={"Software": PLOT_MARK})
    plt.close(fig)


def shade_unusable(ax: Any, spans: list[dict[str, Any]]) -> None:
    """Grey bands over the frames without a usable face, labelled once per reason."""
    seen: set[str] = set()
    for span in spans:
        label = None if span["reason"] in seen else f"no usable face: {span['reason']}"
        seen.add(span["reason"])
        ax.axvspan(span["first"] - 0.5, span["last"] + 0.5, color="0.6", alpha=0.35, label=label)
