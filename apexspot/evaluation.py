"""Scoring held-out clips: the fold's model, the spotting rule, and every baseline on the same clip."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from apexspot import baselines
from apexspot.config import FlowParams, Variant, read_yaml
from apexspot.datasets.manifest import Clip
from apexspot.flow import clip_flow
from apexspot.labels import continuous_labels
from apexspot.errors import ApexspotError
from apexspot.files import write_json
from apexspot.model import load_model
from apexspot.spotting import apex_index
from apexspot.temporal import ApexPrior, posterior

# The model, the training-free baselines, and `prior`: the median of the apex prior fitted
# on the training folds, which needs labels but no look at the clip (what a clip model
# would answer if its evidence were flat).
PREDICTORS = ("model", "centre", "prior", "max_flow", "max_strain", "max_lbp")


@dataclass
class FoldModel:
    """A trained fold: its network and, for clip models, the prior fitted on its training folds."""

    model: Any
    variant: Variant
    prior: ApexPrior | None = None
    channels: tuple[str, ...] = ("u", "v", "magnitude")

    @classmethod
    def load(cls, path: str | Path) -> "FoldModel":
        """models/fold_<k>.keras and the record beside it (models/fold_<k>.json)."""
        path = Path(path)
        record = read_yaml(path.with_suffix(".json")) if path.with_suffix(".json").exists() else {}
        if not isinstance(record, dict):
            raise ApexspotError(f"{path.with_suffix('.json')}: not a fold record")
        prior = record.get("prior")
        variant = Variant.from_params(record.get("variant"), f"{path.with_suffix('.json')}: variant")
        return cls(load_model(path), variant, ApexPrior(**prior) if prior else None,
                   tuple(record.get("channels") or cls.channels))

    def scores(self, flow: np.ndarray) -> np.ndarray:
        """Per-frame scores of one clip: the regression output (frame models) or the apex
        posterior (clip models)."""
        if self.variant.kind == "clip":
            return posterior(self.model, flow, self.prior, self.variant, list(self.channels))
        return model_scores(self.model, flow)


def write_fold_record(path: Path, variant: Variant, prior: ApexPrior | None, channels: list[str],
                      **extra: Any) -> None:
    """What scoring needs beside the weights: the variant, and the prior of the training folds."""
    write_json(path.with_suffix(".json"), {"variant": variant.model_dump(), "prior": prior.to_dict() if prior else None,
                                           "channels": list(channels), **extra})


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
    again = clip_flow(aligned["frames"], aligned["aligned_landmarks"], FlowParams(method=method, channels=["u", "v"], size=size)).flow
    return again[..., 0], again[..., 1]


def predict_clip(clip: Clip, fold: int, scores: np.ndarray, flow: dict[str, np.ndarray],
                 aligned: dict[str, np.ndarray], method: str, window: int, prior: ApexPrior) -> dict[str, Any]:
    """One row of metrics/predictions.csv: truth, the model's apex and each baseline's."""
    size = flow["flow"].shape[1]
    u, v = flow_uv(flow, aligned, size)
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
    return row


def score_rows(clip: Clip, scores: np.ndarray) -> list[dict[str, Any]]:
    """Per-frame score and target of a clip, for the score-curve plots."""
    target = continuous_labels(clip.onset, clip.apex, clip.offset)
    return [{"clip_id": clip.clip_id, "frame": clip.onset + i, "score": float(s), "target": float(t)}
            for i, (s, t) in enumerate(zip(scores, target))]
