"""Writing outputs.

Inside `dvc repro` DVC owns a stage's outputs: it deletes them before the stage runs and
after it fails, so stages write in place, with no temporary copies to leave behind. What
the CLI writes outside DVC (spot's plot, exports) goes through `atomic_path`: a temporary
name beside the target, renamed when complete.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import tempfile
import zipfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import pandas as pd


def fresh_dir(path: str | Path) -> Path:
    """An empty folder at `path` (what a previous run left there is removed)."""
    path = Path(path)
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def write_json(path: str | Path, data: Any) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")


def write_csv(path: str | Path, frame: pd.DataFrame) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)


@contextmanager
def atomic_path(path: str | Path, folder: bool = False) -> Iterator[Path]:
    """Yield a temporary file (or, with `folder`, a temporary folder) beside `path`; it becomes
    `path` only if the block succeeds, and is removed if it fails. Every file and folder the
    CLI writes goes through here, so an interrupted command never leaves a half-written
    output that looks complete."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if folder:
        tmp_path = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    else:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix or ".tmp", dir=path.parent)
        os.close(fd)
        tmp_path = Path(tmp)
    try:
        yield tmp_path
        if folder and path.is_dir():
            path.rmdir()  # an empty folder the caller allowed; anything in it makes this fail
        os.replace(tmp_path, path)
    finally:
        if folder:
            shutil.rmtree(tmp_path, ignore_errors=True)
        else:
            tmp_path.unlink(missing_ok=True)


STAMP = (2000, 1, 1, 0, 0, 0)


def reproducible_zip(data: bytes, scrub: dict[str, list[tuple[bytes, bytes]]] | None = None) -> bytes:
    """The same zip bytes for the same content: fixed member times,
    and the regex substitutions in `scrub` (member name -> [(pattern, replacement)]) applied
    to drop dates a writer stamps into the content (xlsx properties, .keras metadata)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            for pattern, replacement in (scrub or {}).get(info.filename, []):
                content = re.sub(pattern, replacement, content)
            target.writestr(zipfile.ZipInfo(info.filename, date_time=STAMP), content,
                            compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def inside(path: Path, root: Path) -> bool:
    """Whether `path`, links followed, stays inside `root` (links followed too)."""
    return path.resolve().is_relative_to(root.resolve())
