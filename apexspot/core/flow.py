"""Onset-referenced optical flow, with head motion removed, as network input channels.

Flow runs from the onset frame to every frame t (frame 0 is all zeros), so each frame's
flow is the expression's displacement so far. Head motion that survives the one-per-clip
alignment (drift, small rotations, a nod) is estimated per frame as a similarity motion
(translation, rotation, scale) fitted by least median of squares to the flow inside the
face, and subtracted. A micro-expression moves a small part of the face, so the robust fit
follows the head and leaves the expression in the residual.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import cv2
import numpy as np

from apexspot.core import arrayfiles
from apexspot.core.config import FlowParams
from apexspot.core.errors import ApexspotError
from apexspot.core.sheet import Skipped
from apexspot.core.workers import worker_state

METHODS = ("farneback", "dis", "tvl1")


def flow_function(method: str, iterations: int = 3) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """A function (reference, frame) -> H x W x 2 float32 flow, built once per process
    (`iterations`: Farnebäck's per pyramid level)."""
    if method == "farneback":
        return lambda a, b: cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 3, 15, iterations, 5, 1.2, 0)
    if method == "dis":
        dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        return lambda a, b: dis.calc(a, b, None)
    if method == "tvl1":
        tvl1 = cv2.optflow.DualTVL1OpticalFlow_create()
        return lambda a, b: tvl1.calc(a, b, None)
    raise ValueError(f"unknown flow method {method!r}; choose from {', '.join(METHODS)}")


def face_mask(size: int, landmarks: np.ndarray) -> np.ndarray:
    """Boolean mask of the face (an ellipse around the aligned landmarks) for the head-motion fit."""
    eyes = (landmarks[0] + landmarks[1]) / 2
    mouth = (landmarks[3] + landmarks[4]) / 2
    iod = float(np.linalg.norm(landmarks[1] - landmarks[0]))
    centre = (eyes + mouth) / 2
    mask = np.zeros((size, size), np.uint8)
    axes = (int(round(1.0 * iod)), int(round(0.5 * np.linalg.norm(mouth - eyes) + 0.7 * iod)))
    cv2.ellipse(mask, (int(round(centre[0])), int(round(centre[1]))), axes, 0, 0, 360, 1, -1)
    return mask.astype(bool)


def head_motion(flow: np.ndarray, mask: np.ndarray, step: int = 3) -> np.ndarray:
    """The similarity motion (2x3) that best explains the flow inside `mask`, by LMedS."""
    ys, xs = np.nonzero(mask[::step, ::step])
    ys, xs = ys * step, xs * step
    src = np.stack([xs, ys], 1).astype(np.float32)
    dst = src + flow[ys, xs]
    matrix, _ = cv2.estimateAffinePartial2D(src, dst, method=cv2.LMEDS)
    if matrix is None:  # degenerate (e.g. an all-zero flow): no motion
        matrix = np.array([[1, 0, 0], [0, 1, 0]], np.float64)
    return matrix


@lru_cache(maxsize=8)
def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return yy, xx


# Head motion under this many pixels (anywhere in the frame) is left to the first flow:
# warping by it would only blur the frame by resampling.
STABILISE_FROM = 0.25


def displacement(matrix: np.ndarray, size: int) -> float:
    """The largest displacement (pixels) a 2x3 motion gives a corner of a size x size frame."""
    corners = np.array([[0, 0], [size, 0], [0, size], [size, size]], float)
    return float(np.max(np.hypot(*(corners @ matrix[:, :2].T + matrix[:, 2] - corners).T)))


def remove_head_motion(flow: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Flow minus the displacement the head motion `matrix` gives each pixel."""
    yy, xx = _grid(*flow.shape[:2])
    gx = matrix[0, 0] * xx + matrix[0, 1] * yy + matrix[0, 2] - xx
    gy = matrix[1, 0] * xx + matrix[1, 1] * yy + matrix[1, 2] - yy
    return flow - np.stack([gx, gy], -1).astype(np.float32)


def strain(flow: np.ndarray) -> np.ndarray:
    """Optical strain magnitude sqrt(exx^2 + eyy^2 + 2 exy^2) (Liong et al. 2016)."""
    du_dy, du_dx = np.gradient(flow[..., 0])
    dv_dy, dv_dx = np.gradient(flow[..., 1])
    exy = 0.5 * (du_dy + dv_dx)
    return np.sqrt(du_dx**2 + dv_dy**2 + 2 * exy**2)


def channels(flow: np.ndarray, names: list[str], size: int) -> np.ndarray:
    """Resize one flow field to size x size (displacements rescaled to the new grid), stack channels."""
    factor = size / flow.shape[0]
    small = cv2.resize(flow, (size, size), interpolation=cv2.INTER_AREA) * factor
    out = {
        "u": lambda: small[..., 0],
        "v": lambda: small[..., 1],
        "magnitude": lambda: np.hypot(small[..., 0], small[..., 1]),
        # Strain on the full-resolution flow (gradients of a downsampled field are too coarse).
        "strain": lambda: cv2.resize(strain(flow), (size, size), interpolation=cv2.INTER_AREA),
    }
    return np.stack([out[n]() for n in names], -1)


@dataclass
class ClipFlow:
    flow: np.ndarray  # T x size x size x C: displacement x scale (float32, or float16 as the flow stage stores it)
    head: np.ndarray  # T x 2 x 3: the head motion removed from each frame


def clip_flow(frames: np.ndarray, landmarks: np.ndarray, p: FlowParams,
              compute: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
              dtype: type = np.float32) -> ClipFlow:
    """Flow from frame 0 to every frame of an aligned clip (T x S x S uint8), times `p.scale`.

    Each frame is scaled in float32 and then stored as `dtype`: float16 (what the flow stage
    keeps) gives the same values as rounding a float32 result afterwards, in half the memory
    (a 5,000-frame recording: 170 MB instead of 340).
    """
    compute = compute or flow_function(p.method)
    mask = face_mask(frames.shape[1], landmarks)
    identity = np.array([[1, 0, 0], [0, 1, 0]], np.float64)
    out = np.zeros((len(frames), p.size, p.size, len(p.channels)), dtype)
    head = np.repeat(identity[None], len(frames), 0)
    for t in range(1, len(frames)):
        flow = compute(frames[0], frames[t])
        if p.remove_global:
            head[t] = head_motion(flow, mask)
            if p.stabilise and displacement(head[t], frames.shape[1]) > STABILISE_FROM:
                # Frame t warped back onto the onset by the head motion, and flow again: the
                # flow methods are most accurate for small displacements, so what is left
                # is the expression, not the error of a large head displacement.
                back = cv2.warpAffine(frames[t], head[t], frames[t].shape[::-1],
                                      flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
                flow = compute(frames[0], back)
                flow = remove_head_motion(flow, head_motion(flow, mask))
            else:
                flow = remove_head_motion(flow, head[t])
        out[t] = channels(flow, p.channels, p.size).astype(np.float32) * np.float32(p.scale)
    return ClipFlow(out, head)


def to_hsv_image(flow_uv: np.ndarray, max_magnitude: float | None = None) -> np.ndarray:
    """Flow as a BGR picture: hue = direction, brightness = magnitude (the paper's Fig. 3)."""
    mag, ang = cv2.cartToPolar(flow_uv[..., 0].astype(np.float32), flow_uv[..., 1].astype(np.float32))
    top = max_magnitude or float(np.percentile(mag, 99.5)) or 1.0
    hsv = np.zeros((*mag.shape, 3), np.uint8)
    hsv[..., 0] = (ang * 90 / np.pi).astype(np.uint8)
    hsv[..., 1] = 255
    hsv[..., 2] = np.clip(mag / top * 255, 0, 255).astype(np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)


def apex_flow(compute: Callable[[np.ndarray, np.ndarray], np.ndarray], frames: np.ndarray, at: int,
              head: np.ndarray | None) -> np.ndarray:
    """u, v from the onset to frame `at` at the aligned frames' resolution, minus the head
    motion the flow stage fitted for that frame (`head`: one 2x3 matrix per frame, or None
    when head motion is kept): what the previews, `spot --plot` and `export` show."""
    uv = compute(frames[0], frames[at])
    return uv if head is None else remove_head_motion(uv, head[at])


def colour_key(size: int = 64) -> np.ndarray:
    """The colour wheel of `to_hsv_image`: the colour of a pixel moving from the centre towards
    each point (image coordinates: v grows downwards), full brightness at the rim."""
    grid = np.linspace(-1, 1, size, dtype=np.float32)
    u, v = np.meshgrid(grid, grid)
    key = to_hsv_image(np.stack([u, v], axis=-1), max_magnitude=1.0)
    key[u**2 + v**2 > 1] = 0
    return key


def preview_clips(clips: list[Any], n: int) -> set[str]:
    """Clip ids of `n` previews, one per subject while there are subjects left (different
    faces say more about the flow than several clips of one face)."""
    seen: set[str] = set()
    firsts = [c.clip_id for c in clips if not (c.subject in seen or seen.add(c.subject))]
    rest = [c.clip_id for c in clips if c.clip_id not in firsts]
    return set((firsts + rest)[:n])


def flow_state(method: str) -> dict[str, Any]:
    """Worker setup: one flow object per process."""
    return {"compute": flow_function(method)}


def preview_sheet(frames: np.ndarray, apex_index: int, uv: np.ndarray, title: str) -> np.ndarray:
    """Aligned onset | aligned apex | flow at apex (HSV), each 256 px, with a caption."""
    def panel(image: np.ndarray, label: str) -> np.ndarray:
        big = cv2.resize(image, (256, 256), interpolation=cv2.INTER_NEAREST)
        big = cv2.cvtColor(big, cv2.COLOR_GRAY2BGR) if big.ndim == 2 else big
        cv2.putText(big, label, (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (255, 255, 255), 1, cv2.LINE_AA)
        return big

    row = np.hstack([panel(frames[0], "onset"), panel(frames[apex_index], f"apex (+{apex_index} frames)"),
                     panel(to_hsv_image(uv), "flow at apex"), panel(colour_key(256), "direction key")])
    caption = np.zeros((28, row.shape[1], 3), np.uint8)
    cv2.putText(caption, title, (6, 19), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (255, 255, 255), 1, cv2.LINE_AA)
    return np.vstack([caption, row])


def normalisation_note(p: FlowParams) -> str:
    """What a stored flow value means, as the flow file records it."""
    head = "head motion removed" if p.remove_global else "head motion kept"
    return f"displacement in pixels of the {p.size}x{p.size} grid, times {p.scale}; {head}"


def flow_to_file(job: tuple[Any, Path, Path, Path | None, FlowParams]) -> dict[str, Any]:
    """Flow for one aligned clip, saved as float16; optionally a preview PNG of its apex."""
    clip, aligned_root, out_root, preview_dir, p = job
    source = arrayfiles.clip_file(aligned_root, clip.clip_id)
    try:
        aligned = arrayfiles.load(source)
        frames, marks = aligned["frames"], aligned["aligned_landmarks"]
    except ApexspotError as err:
        return Skipped.of(clip, "flow", "unreadable_aligned_clip", str(err))
    except KeyError as err:
        return Skipped.of(clip, "flow", "unreadable_aligned_clip", f"{source}: no array {err}")
    compute = worker_state()["compute"]
    result = clip_flow(frames, marks, p, compute, dtype=np.float16)
    arrayfiles.save(
        arrayfiles.clip_file(out_root, clip.clip_id),
        flow=result.flow.astype(np.float16), channels=np.array(p.channels), scale=np.float32(p.scale),
        frame_numbers=aligned["frame_numbers"], head=result.head.astype(np.float32), method=np.array(p.method),
        normalisation=np.array(normalisation_note(p)),
    )
    if preview_dir is not None:
        apex = clip.apex - clip.onset
        raw = apex_flow(compute, frames, apex, result.head if p.remove_global else None)
        image = preview_sheet(frames, apex, raw, f"{clip.clip_id}  ({p.method})")
        path = Path(preview_dir) / (clip.clip_id.replace("/", "__") + ".png")
        path.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(path), image)
    return {"clip_id": clip.clip_id, "frames": len(frames)}
