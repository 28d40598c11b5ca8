"""A trained fold on disk: models/fold_<k>.keras (architecture and weights) and
models/fold_<k>.json (the variant, the flow channels and the spotter's state, e.g. the
prior of the training folds). Written by the train stage, read by evaluate and `spot`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np

from apexspot.clips.spotters import Spotter, spotter
from apexspot.core.config import variant_from
from apexspot.core.errors import ApexspotError, ParamsError
from apexspot.core.modelfiles import load_fold, read_record, save_fold


@dataclass
class TrainedFold:
    model: keras.Model
    spotter: Spotter

    def scores(self, flow: np.ndarray) -> np.ndarray:
        """Per-frame scores of one clip's flow (T x H x W x C)."""
        return self.spotter.score(self.model, flow)

    def save(self, path: str | Path, **extra: Any) -> None:
        """The weights (bytes that depend only on them) and the record beside them."""
        s = self.spotter
        save_fold(self.model, Path(path), {"variant": s.variant.model_dump(), "channels": s.channels, **s.state(),
                                           **extra})

    @classmethod
    def load(cls, path: str | Path) -> "TrainedFold":
        path = Path(path)
        record_path = path.with_suffix(".json")
        record = read_record(path)
        if not isinstance(record.get("channels"), list):
            raise ApexspotError(f"{record_path}: not a fold record (no variant and channels)")
        try:
            variant = variant_from(record.get("variant"), f"{record_path}: variant")
        except ParamsError as err:
            raise ApexspotError(str(err)) from None
        kind = spotter(variant, [str(c) for c in record["channels"]], check_state(record, record_path))
        return cls(load_fold(path, variant.kind, kind.inputs), kind)


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
