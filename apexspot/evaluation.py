"""Scoring held-out clips: the fold's model, the spotting rule, and every baseline on the same clip."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from apexspot import baselines
from apexspot.datasets.manifest import Clip
from apexspot.flow import FlowParams, clip_flow
from apexspot.labels import continuous_labels
from apexspot.spotting import apex_index

PREDICTORS = ("model", "centre", "max_flow", "max_strain", "max_lbp")


@dataclass
class SpotParams:
    method: str = "argmax"  # argmax | window
    window: int = 9  # frames, for `window`

    @classmethod
    def from_params(cls, spot: dict[str, Any]) -> "SpotParams":
        return cls(**{k: spot[k] for k in ("method", "window") if k in spot})


def model_scores(model: Any, flow: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Per-frame scores of one clip (T x H x W x C flow in, T scores out)."""
    # Direct calls, not model.predict: every clip has its own length, and predict would
    # retrace its compiled function for each new shape.
    x = flow.astype(np.float32)
    return np.concatenate([np.asarray(model(x[i:i + batch_size], training=False)).reshape(-1)
                           for i in range(0, len(x), batch_size)])


def flow_uv(flow: dict[str, np.ndarray], aligned: dict[str, np.ndarray], size: int) -> tuple[np.ndarray, np.ndarray]:
    """u and v of the clip's flow: from the flow file if it stored them, else computed again."""
    names = [str(c) for c in flow["channels"]]
    if "u" in names and "v" in names:
        values = flow["flow"].astype(np.float32)
        return values[..., names.index("u")], values[..., names.index("v")]
    method = str(flow["method"])
    again = clip_flow(aligned["frames"], aligned["aligned_landmarks"], FlowParams(method, ["u", "v"], size)).flow
    return again[..., 0], again[..., 1]


def predict_clip(clip: Clip, fold: int, scores: np.ndarray, flow: dict[str, np.ndarray],
                 aligned: dict[str, np.ndarray], spot: SpotParams) -> dict[str, Any]:
    """One row of metrics/predictions.csv: truth, the model's apex and each baseline's."""
    size = flow["flow"].shape[1]
    u, v = flow_uv(flow, aligned, size)
    zoom = size / aligned["frames"].shape[1]
    eyes = aligned["aligned_landmarks"][:2] * zoom
    radius = 0.4 * float(np.linalg.norm(eyes[1] - eyes[0]))  # covers lids and brows near the eye
    row = {
        "clip": clip.clip_id, "subject": clip.subject, "dataset": clip.dataset, "fold": fold,
        "onset": clip.onset, "offset": clip.offset, "apex": clip.apex,
        "model": clip.onset + apex_index(scores, spot.method, spot.window),
        "centre": baselines.centre(clip.onset, clip.offset),
        "max_flow": clip.onset + baselines.max_flow_magnitude(u, v),
        "max_strain": clip.onset + baselines.max_strain_eyes_masked(u, v, eyes, radius),
        "max_lbp": clip.onset + baselines.max_lbp_distance(aligned["frames"]),
    }
    row["error"] = abs(row["model"] - clip.apex)
    return row


def score_rows(clip: Clip, scores: np.ndarray) -> list[dict[str, Any]]:
    """Per-frame score and target of a clip, for the score-curve plots."""
    target = continuous_labels(clip.onset, clip.apex, clip.offset)
    return [{"clip": clip.clip_id, "frame": clip.onset + i, "score": float(s), "target": float(t)}
            for i, (s, t) in enumerate(zip(scores, target))]
