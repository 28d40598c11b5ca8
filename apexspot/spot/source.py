"""The recording `apexspot spot` reads: a video file (anything OpenCV reads) or a folder of
frames, its numbering, the window asked for, and its frame rate.

Frames are named as the recording names them: in a folder, by the number in each file name
(a CASME II clip folder gives the coding sheet's frame numbers); in a video, by the 0-based
frame index (and the time in seconds). Nothing is decoded here but a video's frame count, so
the window is checked before any model loads.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from apexspot.core.errors import ApexspotError
from apexspot.core.frames import BadFrame, count_video_frames, read_files, read_video
from apexspot.recordings.recording import number_ranges


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
            for item in read_files(self.paths, color=True,
                                   absent=lambda i: f"{self.source}: no frame numbered {self.numbers[i]}"):
                yield item if isinstance(item, BadFrame) else item[1]
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
        missing = set(range(numbers[start], numbers[stop] + 1)) - set(numbers[start:stop + 1])
        if missing:
            print(f"apexspot spot: {source}: no frame numbered {number_ranges(missing)} ({len(missing)} missing in "
                  f"the window): scores run over the files as they are, so time is not uniform there", file=sys.stderr)
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


def frame_rate(clip: Window, fps: float | None) -> tuple[float, str]:
    """The recording's frame rate and where it came from: --fps, the video's header, or the
    200 fps of CASME II and SAMM for a folder (said in the result)."""
    if fps is not None:
        return float(fps), "--fps"
    if clip.fps:
        return clip.fps, "video header"
    return 200.0, "assumed (a folder of frames states none; give --fps)"
