"""Faces: MTCNN (with a Haar fallback) and its five landmarks, the similarity transform that
puts eyes level at a fixed inter-ocular distance, and frames read strictly from disk.

Both pipelines align with these: a short clip gets one transform from its onset frame
(apexspot.clips.align), a long recording a transform per frame from the face follower
(apexspot.recordings.track).
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import simplejpeg

from apexspot.core.config import AlignParams

LANDMARKS = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")  # image-left first

# Where the five landmarks sit inside a Haar box, as fractions of its width/height
# (measured on MTCNN's landmarks of frontal faces); used only when MTCNN finds nothing.
HAAR_LANDMARKS = np.array([[0.31, 0.38], [0.69, 0.38], [0.50, 0.58], [0.35, 0.77], [0.65, 0.77]])


class FrameError(Exception):
    """A frame that cannot be used; the clip is skipped with this reason."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


@dataclass
class Detection:
    box: np.ndarray  # x, y, w, h in frame pixels
    landmarks: np.ndarray  # 5 x 2, in LANDMARKS order
    confidence: float
    detector: str  # "mtcnn" or "haar"


def same_bytes_on_every_machine() -> None:
    """Pin MTCNN to TensorFlow, and its kernels' arithmetic to one vector instruction set and
    one thread. (It runs in processes of its own: the face-align workers, or the child that
    `ForkedDetector` forks, so the spotters keep the user's KERAS_BACKEND.)

    TensorFlow's oneDNN kernels pick the widest instructions the CPU has (AVX2, AVX-512) and
    split work over its cores, and each choice sums in another order: the landmarks then
    differ in the fourth decimal between machines (measured: AVX2 against AVX-512, and one
    thread against two), so the similarity transform, every aligned byte and the flow differ
    too. AVX2 is on every x86-64 machine of the last decade; one thread costs nothing here,
    since face-align runs one worker per core. Must run before TensorFlow starts; in a
    process where it already has (a notebook that trained a model first), it changes nothing.
    """
    os.environ |= {"TF_ENABLE_ONEDNN_OPTS": "1", "ONEDNN_MAX_CPU_ISA": "AVX2", "TF_NUM_INTRAOP_THREADS": "1",
                   "TF_NUM_INTEROP_THREADS": "1", "OMP_NUM_THREADS": "1",
                   # mtcnn is written for TensorFlow; the user's KERAS_BACKEND is for the spotters
                   "KERAS_BACKEND": "tensorflow"}
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # TensorFlow's runtime is already initialised in this process
        pass


class ForkedDetector:
    """A FaceDetector in a child process forked once (before Keras loads): in a process that
    runs the spotters on JAX or PyTorch (`apexspot spot`), MTCNN still gets TensorFlow. Use it
    as a context manager, so the child ends with the work."""

    def __init__(self, min_confidence: float = 0.9) -> None:
        import multiprocessing

        self._pool = multiprocessing.get_context("fork").Pool(1, initializer=_start_child,
                                                                initargs=(min_confidence,))

    def detect(self, bgr: np.ndarray, views: int = 1, first: "Detection | None" = None) -> "Detection | None":
        return self._pool.apply(_detect_in_child, (bgr, views, first))

    def __enter__(self) -> "ForkedDetector":
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.terminate()
        self._pool.join()


_child: dict[str, "FaceDetector"] = {}


def _start_child(min_confidence: float) -> None:
    _child["detector"] = FaceDetector(min_confidence)


def _detect_in_child(bgr: np.ndarray, views: int, first: "Detection | None") -> "Detection | None":
    return _child["detector"].detect(bgr, views, first)


class FaceDetector:
    """MTCNN first, an OpenCV Haar cascade if MTCNN finds nothing. Build one per process."""

    def __init__(self, min_confidence: float = 0.9, use_mtcnn: bool = True) -> None:
        self.min_confidence = min_confidence
        self.mtcnn = None
        if use_mtcnn:
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # hide CUDA probing noise on CPU machines
            same_bytes_on_every_machine()
            from mtcnn import MTCNN

            self.mtcnn = MTCNN()
        cascade = os.path.join(cv2.data.haarcascades, "haarcascade_frontalface_default.xml")
        self.haar = cv2.CascadeClassifier(cascade)
        if self.haar.empty():
            raise RuntimeError(f"OpenCV Haar cascade not found at {cascade}")

    def detect(self, bgr: np.ndarray, views: int = 1, first: Detection | None = None) -> Detection | None:
        """The most confident (then largest) face, or None. `first`: this frame's one-view
        result, already known (a caller that looked once before deciding to look closer).

        With `views` 2 or 4, MTCNN also looks at the mirrored frame (and at 0.8x and 1.25x)
        and the landmarks are averaged: one view's landmarks are off by 1-2 px, the average
        of four by well under one (measured in tests/test_face.py).
        """
        found = first or self._detect_once(bgr)
        if found is None or found.detector != "mtcnn" or views == 1:
            return found
        marks = [found.landmarks]
        mirrored = self._detect_once(np.ascontiguousarray(bgr[:, ::-1]))
        if mirrored is not None and mirrored.detector == "mtcnn":
            flipped = mirrored.landmarks[[1, 0, 2, 4, 3]].copy()  # left and right swap in a mirror
            flipped[:, 0] = bgr.shape[1] - 1 - flipped[:, 0]
            marks.append(flipped)
        for scale in (0.8, 1.25) if views >= 4 else ():
            resized = cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            other = self._detect_once(resized)
            if other is not None and other.detector == "mtcnn":
                marks.append((other.landmarks + 0.5) / scale - 0.5)
        marks = np.mean([m for m in marks if np.linalg.norm(m[0] - found.landmarks[0]) < 0.1 * found.box[2]], 0)
        return Detection(found.box, marks, found.confidence, "mtcnn")

    def _detect_once(self, bgr: np.ndarray) -> Detection | None:
        if self.mtcnn is not None:
            # The numpy output keeps sub-pixel landmarks (the json output rounds them):
            # per face [image, x, y, w, h, confidence, 5 landmark xs, 5 landmark ys].
            rows = np.asarray(self.mtcnn.detect_faces(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), output_type="numpy"))
            rows = rows.reshape(-1, 16) if rows.size else rows.reshape(0, 16)
            rows = rows[rows[:, 5] >= self.min_confidence]
            if len(rows):
                best = rows[np.lexsort((rows[:, 3] * rows[:, 4], np.round(rows[:, 5], 3)))[-1]]
                marks = np.stack([best[6:11], best[11:16]], 1)
                return Detection(best[1:5].astype(float), marks, float(best[5]), "mtcnn")
        grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY) if bgr.ndim == 3 else bgr
        side = min(grey.shape[:2])
        boxes, _, weights = self.haar.detectMultiScale3(grey, 1.1, 5, minSize=(side // 8, side // 8),
                                                         outputRejectLevels=True)
        if len(boxes) == 0:
            return None
        i = int(np.argmax(np.asarray(boxes)[:, 2]))
        box = np.asarray(boxes[i], float)
        marks = box[:2] + HAAR_LANDMARKS * box[2:]
        return Detection(box, marks, float(np.ravel(weights)[i]), "haar")


# A canonical frontal face: the five landmarks in units of the inter-ocular distance, eyes at
# (0, 0) and (1, 0) (the widely used 5-point template of ArcFace, rescaled).
TEMPLATE = np.array([[0.0, 0.0], [1.0, 0.0], [0.4966, 0.5800], [0.0925, 1.1654], [0.9206, 1.1674]])


def target_landmarks(p: AlignParams) -> np.ndarray:
    """Where the five landmarks go in the aligned frame: eyes level, `margin` from the edges."""
    iod = (1 - 2 * p.margin) * p.size
    return TEMPLATE * iod + [p.margin * p.size, p.eye_line * p.size]


def similarity_transform(landmarks: np.ndarray, p: AlignParams) -> np.ndarray:
    """2x3 matrix taking frame pixels to aligned pixels.

    A least-squares similarity from all five landmarks to the template, not just the two
    eyes: each detected landmark is off by a pixel or two, and five average out better.
    """
    from skimage.transform import SimilarityTransform

    fit = SimilarityTransform.from_estimate(np.asarray(landmarks, float), target_landmarks(p))
    return np.asarray(fit.params[:2], dtype=np.float64)


def apply_transform(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ matrix[:, :2].T + matrix[:, 2]


def read_frame(path: Path, color: bool = False, reduction: int = 1) -> np.ndarray:
    """Decode one frame (grey, or BGR with `color`), or raise FrameError naming the file.

    JPEGs are decoded strictly (simplejpeg): libjpeg only warns about data damaged in the
    middle of a file and returns a partly grey picture, which would be aligned and turned
    into flow as if it were a face. Bytes after the end marker are ignored, as by every
    viewer. `reduction` 2 or 4 decodes at 1/2 or 1/4 size in the DCT domain.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FrameError("missing_frame", f"{path} does not exist") from None
    except OSError as err:
        raise FrameError("unreadable_frame", f"{path}: {err.strerror}") from None
    if data[:2] == b"\xff\xd8":
        try:
            height, width, _, _ = simplejpeg.decode_jpeg_header(data)
            check_size(path, width, height)
            image = np.squeeze(simplejpeg.decode_jpeg(
                data, "BGR" if color else "GRAY", min_factor=reduction,
                min_height=-(-height // reduction), min_width=-(-width // reduction)), axis=2 if not color else ())
        except ValueError as err:
            raise FrameError("corrupt_frame", f"{path} is a damaged JPEG ({err})") from None
        return upright(image, exif_orientation(data))
    size = header_size(data)
    if size is not None:
        check_size(path, *size)
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR if color else cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise FrameError("corrupt_frame", f"{path} cannot be decoded as an image")
    if reduction > 1:
        image = cv2.resize(image, (-(-image.shape[1] // reduction), -(-image.shape[0] // reduction)),
                           interpolation=cv2.INTER_AREA)
    return image


MAX_PIXELS = 40_000_000  # 8K video is 33 Mpx; a header claiming more is damaged or hostile


def check_size(path: Path, width: int, height: int) -> None:
    """Refuse a frame whose header claims an absurd size before decoding it (a 60000x60000
    header would need 10 GB)."""
    if width * height > MAX_PIXELS:
        raise FrameError("frame_too_large", f"{path} claims to be {width}x{height} pixels; frames above "
                         f"{MAX_PIXELS // 1_000_000} megapixels are refused before decoding")


def header_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from an image header, without decoding the pixels (None if unknown)."""
    from PIL import Image, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = None  # only the header is read here; check_size decides
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):  # PIL's "broken PNG" is a SyntaxError
        return None


def exif_orientation(data: bytes) -> int:
    """The EXIF orientation of a JPEG (1 = as stored), read from its header only."""
    if b"Exif" not in data[:65536]:
        return 1
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            value = image.getexif().get(0x0112, 1)
    except (UnidentifiedImageError, OSError, ValueError):
        return 1
    return value if value in range(1, 9) else 1


def upright(image: np.ndarray, orientation: int) -> np.ndarray:
    """The picture as a viewer shows it, for EXIF orientations 2-8 (a phone held sideways
    stores its frames rotated and says so in this tag)."""
    if orientation == 1:
        return image
    steps = {2: (0, True), 3: (2, False), 4: (2, True), 5: (1, True), 6: (3, False), 7: (3, True), 8: (1, False)}
    turns, mirror = steps[orientation]  # counter-clockwise quarter turns, after a left-right mirror
    if mirror:
        image = image[:, ::-1]
    return np.ascontiguousarray(np.rot90(image, turns))


def detector_state(min_confidence: float) -> dict[str, Any]:
    """Worker setup: one detector per process (MTCNN's weights load once)."""
    return {"detector": FaceDetector(min_confidence)}
