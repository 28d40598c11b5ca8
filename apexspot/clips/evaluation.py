"""Scoring held-out clips: the fold's model, the spotting rule, and every baseline on the same clip."""

from __future__ import annotations

from typing import Any

import numpy as np

from apexspot.clips import baselines
from apexspot.clips.apex import apex_index
from apexspot.clips.labels import continuous_labels
from apexspot.clips.manifest import Clip
from apexspot.clips.spotters.clip.prior import ApexPrior
from apexspot.core.config import FlowParams
from apexspot.core.flow import clip_flow

# The model, the training-free baselines, and `prior`: the median of the apex prior fitted
# on the training folds, which needs labels but no look at the clip (what a clip model
# would answer if its evidence were flat).
PREDICTORS = ("model", "centre", "prior", "max_flow", "max_strain", "max_lbp")


def flow_uv(flow: dict[str, np.ndarray], aligned: dict[str, np.ndarray], p: FlowParams) -> tuple[np.ndarray, np.ndarray]:
    """u and v of the clip's flow: from the flow file if it stored them, else computed again
    with the flow stage's settings (the baselines need both)."""
    names = [str(c) for c in flow["channels"]]
    if "u" in names and "v" in names:
        values = flow["flow"].astype(np.float32)
        return values[..., names.index("u")], values[..., names.index("v")]
    again = clip_flow(aligned["frames"], aligned["aligned_landmarks"], p.replace(channels=["u", "v"])).flow
    return again[..., 0], again[..., 1]


def predict_clip(clip: Clip, fold: int, scores: np.ndarray, flow: dict[str, np.ndarray],
                 aligned: dict[str, np.ndarray], method: str, window: int, prior: ApexPrior,
                 flow_params: FlowParams) -> dict[str, Any]:
    """One row of metrics/predictions.csv: truth, the model's apex and each baseline's."""
    size = flow["flow"].shape[1]
    u, v = flow_uv(flow, aligned, flow_params)
    zoom = size / aligned["frames"].shape[1]
    eyes = aligned["aligned_landmarks"][:2] * zoom
    radius = 0.4 * float(np.linalg.norm(eyes[1] - eyes[0]))  # covers lids and brows near the eye
    row = {
        "clip_id": clip.clip_id, "subject": clip.subject, "identity": clip.identity, "dataset": clip.dataset, "fold": fold,
        "onset": clip.onset, "offset": clip.offset, "apex": clip.apex,
        # What recognition needs next, as the sheet has it.
        "emotion": clip.emotion or "unknown", "action_units": clip.action_units, "objective_class": clip.objective_class,
        "model": clip.onset + apex_index(scores, method, window),
        "centre": baselines.centre(clip.onset, clip.offset),
        "prior": clip.onset + apex_index(np.exp(prior.log_prior(clip.n_frames)), "median"),
        "max_flow": clip.onset + baselines.max_flow_magnitude(u, v),
        "max_strain": clip.onset + baselines.max_strain_eyes_masked(u, v, eyes, radius),
        "max_lbp": clip.onset + baselines.max_lbp_distance(aligned["frames"]),
    }
    row["error"] = abs(row["model"] - clip.apex)
    # Where in the window the coded and the spotted apex fall (0 = onset, 1 = offset): the
    # scatter of these says more than absolute frame numbers, which mostly show clip starts.
    row["apex_position"] = (clip.apex - clip.onset) / (clip.offset - clip.onset)
    row["model_position"] = (row["model"] - clip.onset) / (clip.offset - clip.onset)
    return row


def score_rows(clip: Clip, scores: np.ndarray) -> list[dict[str, Any]]:
    """Per-frame score and target of a clip, for the score-curve plots."""
    target = continuous_labels(clip.onset, clip.apex, clip.offset)
    return [{"clip_id": clip.clip_id, "frame": clip.onset + i, "score": float(s), "target": float(t)}
            for i, (s, t) in enumerate(zip(scores, target))]
