"""A trained fold on disk, for every spotter kind: fold_<k>.keras (bytes that depend only on
the weights, loaded only in safe mode) and fold_<k>.json beside it (the spotter's settings
and fitted state), saved and checked the same way; each kind declares how many inputs its
network takes, so a weights file from another run is refused in one line."""

from __future__ import annotations

import json
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import keras

from apexspot.core.errors import ApexspotError
from apexspot.core.files import reproducible_zip, write_json


def save_model(model: keras.Model, path: Path) -> None:
    """Weights and architecture only (no optimizer state: a third of the size), and bytes
    that depend only on them (no save date, fixed zip times), so DVC's hash of `models`
    changes only when the weights do."""
    bare = keras.models.clone_model(model)
    bare.set_weights(model.get_weights())
    with tempfile.TemporaryDirectory() as tmp:
        bare.save(Path(tmp) / "model.keras")
        data = (Path(tmp) / "model.keras").read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(reproducible_zip(data, {"metadata.json": [(rb'"date_saved": "[^"]*"', b'"date_saved": ""')]}))


def load_model(path: str | Path) -> keras.Model:
    """A trained fold model; safe_mode refuses arbitrary code (a Lambda layer's bytecode)."""
    if not Path(path).is_file():
        raise ApexspotError(f"{path}: missing (run the pipeline: `dvc repro`)")
    if not zipfile.is_zipfile(path):
        raise ApexspotError(f"{path}: not a Keras model file (a .keras file is a zip archive; this one is not, "
                            f"or is truncated)")
    try:
        return keras.saving.load_model(str(path), safe_mode=True, compile=False)
    except Exception as err:  # noqa: BLE001  Keras raises ValueError, OSError, TypeError, zip errors...
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ApexspotError(f"{path}: not a model this version of apexspot can load safely: {first[:300]}") from None


def save_fold(model: keras.Model, path: Path, record: dict[str, Any]) -> None:
    """The model and its record beside it (fold_<k>.json)."""
    save_model(model, path)
    write_json(path.with_suffix(".json"), record)


def read_record(path: str | Path) -> dict[str, Any]:
    """The record beside a fold model, or a one-line error naming it."""
    record_path = Path(path).with_suffix(".json")
    try:
        record = json.loads(record_path.read_text())
    except FileNotFoundError:
        raise ApexspotError(f"{record_path}: missing (every fold_<k>.keras has one; rerun the pipeline)") from None
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise ApexspotError(f"{record_path}: not a fold record ({type(err).__name__}: {err})") from None
    if not isinstance(record, dict):
        raise ApexspotError(f"{record_path}: not a fold record (not a mapping)")
    return record


def load_fold(path: str | Path, kind: str, inputs: int) -> keras.Model:
    """The weights of a fold whose record says it is a `kind` spotter, whose network takes
    `inputs` inputs."""
    model = load_model(path)
    if len(model.inputs) != inputs:
        raise ApexspotError(f"{path}: a model with {len(model.inputs)} input(s), but {Path(path).with_suffix('.json')} "
                            f"says it is a {kind} spotter ({inputs}); the two files come from different runs")
    return model
