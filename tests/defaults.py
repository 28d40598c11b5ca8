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
