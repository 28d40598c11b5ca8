"""Writing outputs.

Inside `dvc repro` DVC owns a stage's outputs: it deletes them before the stage runs and
after it fails, so stages write in place, with no temporary copies to leave behind. What
the CLI writes outside DVC (plots, exports) goes through `atomic_path`, the one atomic
write: a temporary name beside the target, renamed when complete.
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
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; it becomes `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix or ".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
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
