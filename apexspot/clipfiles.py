"""One .npz per clip per stage: where it lives and how it is read and written safely."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from apexspot.errors import ApexspotError


def clip_file(root: str | Path, clip_id: str) -> Path:
    """data/aligned + casme2/sub01/EP02_01f -> data/aligned/casme2/sub01/EP02_01f.npz"""
    return Path(root) / f"{clip_id}.npz"


def save(path: Path, **arrays: np.ndarray) -> None:
    """One clip's arrays (inside a stage output: DVC removes it if the stage fails)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)


def load(path: Path) -> dict[str, np.ndarray]:
    """All arrays of a clip file; never unpickles, and names the file when it cannot be read."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except FileNotFoundError:
        raise ApexspotError(f"{path}: missing (rerun the pipeline with `dvc repro`)") from None
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
        raise ApexspotError(f"{path}: not a readable clip file ({str(err).splitlines()[0]})") from None
