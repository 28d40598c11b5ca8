"""A trained fold on disk: models/fold_<k>.keras (architecture and weights) and
models/fold_<k>.json (the variant, the flow channels and the spotter's state, e.g. the
prior of the training folds). Written by the train stage, read by evaluate and `spot`."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np

from apexspot.clips.spotters import Spotter, spotter
from apexspot.core.config import variant_from
from apexspot.core.errors import ApexspotError, ParamsError
from apexspot.core.files import write_json
from apexspot.core.modelfiles import load_model, save_model


@dataclass
class TrainedFold:
    model: keras.Model
    spotter: Spotter

    def scores(self, flow: np.ndarray) -> np.ndarray:
        """Per-frame scores of one clip's flow (T x H x W x C)."""
        return self.spotter.score(self.model, flow)

    def save(self, path: str | Path, **extra: Any) -> None:
        """The weights (bytes that depend only on them) and the record beside them."""
        path = Path(path)
        save_model(self.model, path)
        s = self.spotter
        write_json(path.with_suffix(".json"), {"variant": s.variant.model_dump(), "channels": s.channels,
                                               **s.state(), **extra})

    @classmethod
    def load(cls, path: str | Path) -> "TrainedFold":
        path = Path(path)
        record_path = path.with_suffix(".json")
        if not record_path.exists():
            raise ApexspotError(f"{record_path}: missing (every fold_<k>.keras has one; rerun `dvc repro`)")
        try:
            record = json.loads(record_path.read_text())
        except (OSError, UnicodeDecodeError, ValueError) as err:
            raise ApexspotError(f"{record_path}: not a fold record ({type(err).__name__}: {err})") from None
        if not isinstance(record, dict) or not isinstance(record.get("channels"), list):
            raise ApexspotError(f"{record_path}: not a fold record (no variant and channels)")
        try:
            variant = variant_from(record.get("variant"), f"{record_path}: variant")
        except ParamsError as err:
            raise ApexspotError(str(err)) from None
        fold = cls(load_model(path), spotter(variant, [str(c) for c in record["channels"]], check_state(record, record_path)))
        expected = 3 if variant.kind == "clip" else 1  # clip: flow, mask, log prior; frame: one flow frame
        if len(fold.model.inputs) != expected:
            raise ApexspotError(f"{path}: a model with {len(fold.model.inputs)} input(s), but {record_path} says it is a "
                                f"{variant.kind} spotter ({expected}); the two files come from different runs")
        return fold


def check_state(record: dict[str, Any], where: Path) -> dict[str, Any]:
    """The spotter state of a fold record, refused in one line if a value is not what training
    writes (a prior with NaN, a negative or a text shape parameter, a mixing weight outside 0..1)."""
    prior = record.get("prior")
    if prior is None:
        return record
    if not isinstance(prior, dict) or set(prior) != {"a", "b", "uniform", "clips"}:
        raise ApexspotError(f"{where}: prior must be a mapping of a, b, uniform and clips, not {prior!r}")
    for key in ("a", "b", "uniform"):
        value = prior[key]
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if not ok or value <= 0 or (key == "uniform" and value > 1):
            raise ApexspotError(f"{where}: prior.{key} is {value!r}; it must be a finite number above 0"
                                + (" and at most 1" if key == "uniform" else ""))
    return record
