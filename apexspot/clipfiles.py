"""One .npz per clip per stage: where it lives and how it is read and written safely."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np


def clip_file(root: str | Path, clip_id: str) -> Path:
    """data/aligned + casme2/sub01/EP02_01f -> data/aligned/casme2/sub01/EP02_01f.npz"""
    return Path(root) / f"{clip_id}.npz"


def save(path: Path, **arrays: np.ndarray) -> None:
    """Write arrays to `path` atomically (temp file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".npz", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def load(path: Path) -> dict[str, np.ndarray]:
    """All arrays of a clip file; never unpickles."""
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}
