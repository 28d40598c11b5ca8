"""Frames as the face follower reads them: a picture, or a `BadFrame` saying why not.

A recording may lack a frame (a number missing in a folder, an empty file), hold one that
does not decode cleanly, or one of another size. Such a frame is not an error that stops
the recording, nor a picture to follow the face in: it is an unusable frame with its
reason, named in the report, and no flow crosses it.

Videos are decoded by OpenCV's FFmpeg reader. FFmpeg writes what it finds wrong with a
frame straight to the process's standard error (a dozen lines per damaged frame) and then
returns a concealed picture (parts copied from neighbouring frames) as if nothing had
happened. Here its complaints go to a scratch file instead, read after every frame: a frame
it complained about is `corrupt_frame`, and so is every frame after it until a key frame
(the others are predicted from the damaged one).
"""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, TypeVar

import cv2
import numpy as np

from apexspot.core.errors import ApexspotError
from apexspot.core.face import FrameError, read_frame

T = TypeVar("T")
REASONS = ("missing_frame", "unreadable_frame", "corrupt_frame", "frame_too_large", "frame_size")


@dataclass
class BadFrame:
    """A frame the recording should have but that cannot be looked at, and why."""

    reason: str  # one of REASONS
    detail: str  # names the file (or the video frame)


def read_files(paths: Iterable[Path | None], color: bool = False,
               absent: Callable[[int], str] = lambda i: f"frame {i}: no file") -> Iterator[tuple[Path, np.ndarray] | BadFrame]:
    """Each file's picture (grey, or BGR with `color`) with its path, or a BadFrame: no file
    (None, a missing or an empty file: `absent(i)` says which for None), a damaged file, or a
    picture of another size than the first readable one (both named)."""
    size: tuple[int, ...] | None = None
    first = ""
    for i, path in enumerate(paths):
        if path is None:
            yield BadFrame("missing_frame", absent(i))
            continue
        try:
            if path.is_file() and path.stat().st_size == 0:
                raise FrameError("missing_frame", f"{path} is empty (0 bytes)")
            image = read_frame(path, color=color)
        except FrameError as err:
            yield BadFrame(err.reason, err.detail)
            continue
        if size is None:
            size, first = image.shape[:2], path.name
        elif image.shape[:2] != size:
            yield BadFrame("frame_size", f"{path} is {image.shape[1]}x{image.shape[0]}; the recording's frames are "
                                         f"{size[1]}x{size[0]} (as {first})")
            continue
        yield path, image


class QuietDecoder:
    """Runs decoder calls with standard error (the file descriptor, where FFmpeg writes)
    sent to a scratch file, and returns what was written during each call."""

    def __enter__(self) -> "QuietDecoder":
        self.log = tempfile.TemporaryFile()
        self.saved = os.dup(2)
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self.saved)
        self.log.close()

    def call(self, fn: Callable[[], T]) -> tuple[T, str]:
        sys.stderr.flush()
        start = self.log.seek(0, 2)
        os.dup2(self.log.fileno(), 2)
        try:
            result = fn()
        finally:
            os.dup2(self.saved, 2)
        end = self.log.seek(0, 2)
        if end == start:
            return result, ""
        self.log.seek(start)
        return result, self.log.read(min(end - start, 4096)).decode(errors="replace").strip()


def open_video(source: Path) -> cv2.VideoCapture:
    """OpenCV's FFmpeg reader on one decoding thread: a threaded decoder reports a frame's
    damage while decoding later ones, and its messages could not be told apart per frame.
    (One thread decodes a 640x480 frame in about a millisecond.) Another backend where FFmpeg
    cannot open the file."""
    video = cv2.VideoCapture(str(source), cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, 1])
    return video if video.isOpened() else cv2.VideoCapture(str(source))


def decoder_errors(said: str) -> str:
    """FFmpeg's lines about decoding ('[h264 @ 0x...] error while decoding MB'); a pixel-format
    conversion's note ('[swscaler @ ...]') says nothing about the picture."""
    return "\n".join(line for line in said.splitlines() if line.startswith("[") and not line.startswith("[swscaler"))


def count_video_frames(source: Path) -> tuple[int, int, float | None]:
    """(frames that decode, frames the header claims, the header's frame rate or None), with
    the decoder quiet."""
    video = open_video(source)
    fps = float(video.get(cv2.CAP_PROP_FPS) or 0) or None
    claimed = int(video.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    length = 0
    with QuietDecoder() as quiet:
        while video.isOpened() and quiet.call(video.grab)[0]:
            length += 1
    video.release()
    return length, claimed, fps


def read_video(source: Path, start: int, count: int) -> Iterator[np.ndarray | BadFrame]:
    """Frames start..start+count-1 of a video (BGR), a damaged one (and those predicted from
    it, up to the next key frame) as BadFrame `corrupt_frame`. A key frame is known by the
    packet FFmpeg's reader read for it; a reader that does not say keeps the frames after a
    damaged one corrupt to the end."""
    video = open_video(source)
    damaged = False
    try:
        with QuietDecoder() as quiet:
            for index in range(start + count):
                if index < start:
                    ok, said = quiet.call(video.grab)
                    frame = None
                else:
                    (ok, frame), said = quiet.call(video.read)
                said = decoder_errors(said)
                if not ok:
                    raise ApexspotError(f"{source}: frame {index} could not be decoded on the second reading")
                if not said and video.get(cv2.CAP_PROP_LRF_HAS_KEY_FRAME) == 1:
                    damaged = False  # a clean key frame: decoded on its own
                damaged = damaged or bool(said)
                if damaged and frame is not None:
                    detail = (f"{source}: frame {index} is damaged (the decoder: {said.splitlines()[0][:120]})" if said
                              else f"{source}: frame {index} is predicted from a damaged frame before it")
                    frame = BadFrame("corrupt_frame", detail)
                if frame is not None:
                    yield frame
    finally:
        video.release()
