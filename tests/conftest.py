"""Shared helpers: small coding sheets and frame folders written by the tests themselves, and
an interval spotter trained on built-in recordings (for `spot` on videos)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import openpyxl
import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT.parent / "shared" / "reference" / "annotations"

CASME_HEADER = ["Subject", "Filename", None, "OnsetFrame", "ApexFrame", "OffsetFrame", None,
                "Action Units", "Estimated Emotion"]
SAMM_HEADER = ["Subject", "Filename", "Inducement Code", "Onset Frame", "Apex Frame", "Offset Frame",
               "Duration", "Micro", "Action Units", "Estimated Emotion", "Objective Classes", "Notes"]


def write_xlsx(path: Path, rows: list[list], sheet: str = "Sheet1") -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    for row in rows:
        ws.append(row)
    book.save(path)
    return path


def casme_sheet(path: Path, rows: list[tuple], header: list | None = None) -> Path:
    """rows: (subject, filename, onset, apex, offset)."""
    body = [[s, f, None, on, ap, off, None, "12", "happiness"] for s, f, on, ap, off in rows]
    return write_xlsx(path, [header or CASME_HEADER] + body)


def samm_sheet(path: Path, rows: list[tuple], preamble: int = 13) -> Path:
    """rows: (subject, filename, onset, apex, offset); `preamble` note rows above the header."""
    notes = [["SAMM Dataset - Master FACS Codes"]] + [[None]] * (preamble - 2) + [["Symbol Key:"]]
    body = [[s, f, 1, on, ap, off, None, "Micro - 1/2", "4+7", "Anger", 3, None] for s, f, on, ap, off in rows]
    return write_xlsx(path, notes[:preamble] + [SAMM_HEADER] + body, sheet="MICRO_ONLY")


def frames(folder: Path, names: list[str], size: int = 10) -> None:
    """Non-empty stand-in frame files (the readers check existence and size, not pixels)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b"\xff\xd8" + bytes(size))


def casme_frames(root: Path, subject: int, clip: str, onset: int, offset: int, prefix: str = "img") -> Path:
    folder = root / f"sub{subject:02d}" / clip
    frames(folder, [f"{prefix}{n}.jpg" for n in range(onset, offset + 1)])
    return folder


def samm_frames(root: Path, subject: str, clip: str, onset: int, offset: int) -> Path:
    folder = root / subject / clip
    frames(folder, [f"{subject}_{n:05d}.jpg" for n in range(onset, offset + 1)])
    return folder


@pytest.fixture
def reference() -> Path:
    if not REFERENCE.is_dir():
        pytest.skip(f"reference annotation sheets not found at {REFERENCE} (they live in ../shared/)")
    return REFERENCE


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def interval_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built-in models: the long-recording pipeline's fold models and emotion classifiers
    (recordings/recognisers/ beside them), made by its own stage scripts with the project's
    params.yaml on the built-in recordings, each in a process of its own as DVC runs them."""
    from project import ENV

    root = tmp_path_factory.mktemp("recordings")
    (root / "params.yaml").write_text((ROOT / "params.yaml").read_text())
    for stage in ("ingest", "preprocess", "fold_split", "train", "evaluate", "recognise"):
        done = subprocess.run([sys.executable, str(ROOT / "stages" / "recordings" / f"{stage}.py")], cwd=root, env=ENV,
                              capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stderr[-3000:]
    return root / "recordings" / "models"
