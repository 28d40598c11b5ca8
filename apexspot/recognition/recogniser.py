"""A trained emotion classifier on disk: recognisers/fold_<k>.keras and its record (the
classes in output order, the scheme, what it reads), saved and checked like the spotters'
folds (apexspot.core.modelfiles), so `apexspot spot` can name the class it reads."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np

from apexspot.core.errors import ApexspotError
from apexspot.core.modelfiles import load_fold, read_record, save_fold
from apexspot.recognition.networks import RmsNormalise, named, probabilities

KIND = "recogniser"
LAYERS = (RmsNormalise,)  # our layers, registered with Keras when imported: loading a classifier needs them


@dataclass
class Recogniser:
    model: keras.Model
    classes: tuple[str, ...]
    scheme: str
    reads: str  # "flow": a clip's onset->apex flow; "pooled_flow": a recording's pooled flow at one step

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """samples x classes."""
        return probabilities(self.model, x)

    def save(self, path: str | Path, **extra: Any) -> None:
        save_fold(self.model, Path(path), {"kind": KIND, "classes": list(self.classes), "scheme": self.scheme,
                                           "reads": self.reads, **extra})

    @classmethod
    def load(cls, path: str | Path) -> "Recogniser":
        record = read_record(path)
        if record.get("kind") != KIND or not isinstance(record.get("classes"), list):
            raise ApexspotError(f"{Path(path).with_suffix('.json')}: not an emotion classifier's record")
        model = load_fold(path, KIND, 1)
        if model.outputs[0].shape[-1] != len(record["classes"]):
            raise ApexspotError(f"{path}: {model.outputs[0].shape[-1]} outputs but its record names "
                                f"{len(record['classes'])} classes; the two files come from different runs")
        return cls(model, tuple(record["classes"]), str(record.get("scheme", "")), str(record.get("reads", "")))


def load_all(folder: str | Path) -> list[Recogniser]:
    """Every fold's classifier in `folder` (spot averages their probabilities), or [] when none."""
    files = sorted(Path(folder).glob("fold_*.keras")) if Path(folder).is_dir() else []
    return [Recogniser.load(f) for f in files]


def classify(recognisers: list[Recogniser], x: np.ndarray, where: str | Path) -> list[tuple[str, float]]:
    """(class, probability) of each sample by the folds' mean probability."""
    want = tuple(recognisers[0].model.inputs[0].shape[1:])
    if tuple(x.shape[1:]) != want or any(r.classes != recognisers[0].classes for r in recognisers):
        raise ApexspotError(f"{where}: classifiers of {want} inputs ({', '.join(recognisers[0].classes)}), not of "
                            f"{tuple(x.shape[1:])}, or of different classes: they come from another run than the "
                            f"spotters'; rerun the pipeline")
    probs = np.mean([r.probabilities(x) for r in recognisers], axis=0)
    return named(probs, recognisers[0].classes)
