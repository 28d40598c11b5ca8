"""A Keras model on disk: bytes that depend only on the weights, loaded only in safe mode."""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

import keras

from apexspot.core.errors import ApexspotError
from apexspot.core.files import reproducible_zip


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
