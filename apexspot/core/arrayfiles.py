"""One .npz per clip per stage: where it lives and how it is read and written safely."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from apexspot.core.errors import ApexspotError
from apexspot.core.files import atomic_path


def clip_file(root: str | Path, clip_id: str) -> Path:
    """data/aligned + casme2/sub01/EP02_01f -> data/aligned/casme2/sub01/EP02_01f.npz"""
    return Path(root) / f"{clip_id}.npz"


def save(path: Path, **arrays: np.ndarray) -> None:
    """One clip's arrays, written under a temporary name and renamed when complete: a stage
    run by hand that fails (disk full, a file-size limit) leaves no truncated clip file
    that a later stage would read (under `dvc repro`, DVC also removes a failed stage's outputs)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as out:
            np.savez(out, **arrays)


def load(path: Path) -> dict[str, np.ndarray]:
    """All arrays of a clip file; never unpickles, and names the file when it cannot be read."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except FileNotFoundError:
        raise ApexspotError(f"{path}: missing (rerun the pipeline with `dvc repro`)") from None
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
        raise ApexspotError(f"{path}: not a readable clip file ({str(err).splitlines()[0]})") from None
