"""The project's own params.yaml, as the tests' starting point: the schema has no defaults, so
a test varies the settings a user would have (`replace`) instead of inventing its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from apexspot.core import config

ROOT = Path(__file__).resolve().parents[1]
PARAMS = config.load(ROOT / "params.yaml")
CHANNELS = ["u", "v", "magnitude"]


def frame_variant(**changes: Any) -> config.FrameVariant:
    """The paper's full network (lrn5_att), with `changes`."""
    return PARAMS.variants["lrn5_att"].replace(**changes)


def clip_variant(**changes: Any) -> config.ClipVariant:
    return PARAMS.variants["clip"].replace(**changes)


def train_params(frame: dict | None = None, clip: dict | None = None, **changes: Any) -> config.TrainParams:
    t = PARAMS.train
    return t.replace(**changes, frame=t.frame.replace(**(frame or {})).model_dump(),
                     clip=t.clip.replace(**(clip or {})).model_dump())


def data_params(**changes: Any) -> config.DataParams:
    """params.yaml's data section with `changes` (a source's keys merged into its section)."""
    values = PARAMS.data.model_dump()
    for key, value in changes.items():
        values[key] = {**values[key], **value} if isinstance(value, dict) else value
    return config.DataParams.from_params(values)


def tiny_recognisers(folder: Path, network: str, features: tuple[int, ...], folds: int = 2) -> list:
    """Emotion classifiers of the composite classes, a few steps on random input, saved as the
    recognise stages save theirs (fold_<k>.keras and its record)."""
    import numpy as np

    from apexspot.recognition import networks
    from apexspot.recognition.classes import CLASSES
    from apexspot.recognition.recogniser import Recogniser

    classes = CLASSES["composite"]
    rng = np.random.default_rng(0)
    saved = []
    for k in range(folds):
        model = (networks.flow_classifier(features[0], features[-1], len(classes)) if network == "flow"
                 else networks.feature_classifier(features[0], len(classes)))
        x = rng.normal(size=(16, *features)).astype("float32")
        networks.fit(model, x, rng.integers(0, len(classes), 16).astype("int32"), 1, 8, 1e-3)
        recogniser = Recogniser(model, classes, "composite", "flow" if network == "flow" else "pooled_flow")
        recogniser.save(folder / f"fold_{k}.keras", fold=k)
        saved.append(recogniser)
    return saved
