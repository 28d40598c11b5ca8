"""The trained models `apexspot spot` runs, and the settings they were trained with.

The train stage writes models/params.yaml (and recordings/models/params.yaml) beside the
fold models: face geometry, the face follower, the flow, the spotting rule. `spot` reads
those and nothing from the project's params.yaml, so it prepares a recording exactly as the
models' training data was prepared, whatever params.yaml says now.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from apexspot.core.config import read_yaml
from apexspot.core.errors import ApexspotError
from apexspot.spot.source import natural_key


def load_settings(models: Path, required: tuple[str, ...]) -> dict[str, Any]:
    """The settings the models were trained with (their folder's params.yaml, written by the
    train stage), with every `required` section ('recordings.track': a nested one)."""
    path = models / "params.yaml"
    if not path.exists():
        raise ApexspotError(f"{path}: missing (the train stage writes it beside the models; rerun it)")
    settings = read_yaml(path) or {}
    for key in required:
        section: Any = settings
        for part in key.split("."):
            section = section.get(part) if isinstance(section, dict) else None
        if section is None:
            raise ApexspotError(f"{path}: no {key} settings (models from an older run? rerun the train stage)")
    return settings


def model_kind(path: Path) -> str:
    """'apex' for a short-clip spotter's record (it names a variant), 'interval' for a
    recording spotter's (it holds thresholds), '' when the record says neither (or is
    unreadable: loading it says why)."""
    try:
        record = json.loads(path.with_suffix(".json").read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        return ""
    if not isinstance(record, dict):
        return ""
    return "apex" if "variant" in record else "interval" if "thresholds" in record else ""


def model_files(models: Path, missing: str = "no trained models (fold_<k>.keras); run `dvc repro` first") -> list[Path]:
    files = sorted(models.glob("fold_*.keras"), key=natural_key) if models.is_dir() else []
    if not files:
        raise ApexspotError(f"{models}: {missing}")
    return files
