"""The ingest stage as a user runs it: `dvc repro` in a git+DVC project, and its errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import yaml
from conftest import casme_frames, casme_sheet
from project import ROOT, TINY, Project

from apexspot.clips.manifest import MANIFEST_COLUMNS, read_manifest


def test_dvc_repro_ingest_then_noop(tmp_path: Path) -> None:
    project = Project(tmp_path / "proj")
    project.set_params(**TINY)
    project.commit("tiny")
    first = project.dvc("repro")
    assert "ingest: 2 clips kept, 0 skipped" in first.stdout
    manifest = pd.read_csv(project.path / "data/manifest.csv")
    assert list(manifest.columns) == MANIFEST_COLUMNS and len(manifest) == 2
    assert manifest.clip_id.str.startswith("synthetic/sub0").all()
    assert set(manifest.subject) == {"synthetic-01", "synthetic-02"}
    clips = read_manifest(project.path / "data/manifest.csv")
    assert all((project.path / c.frame_path(f)).stat().st_size > 0 for c in clips for f in (c.onset, c.offset))
    report = json.loads((project.path / "data/ingest_report.json").read_text())
    assert report["kept"] == {"synthetic": 2} and report["skipped"] == []
    second = project.dvc("repro")
    assert "didn't change" in second.stdout and "Running stage" not in second.stdout
    assert project.status() == {}


def stage_in(tmp_path: Path, data: dict) -> subprocess.CompletedProcess:
    """Run stages/ingest.py directly in a folder whose params.yaml is the project's with `data`
    merged into its data section."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["workers"] = 1
    for key, value in data.items():
        params["data"][key] = {**params["data"][key], **value} if isinstance(value, dict) else value
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    return subprocess.run([sys.executable, str(ROOT / "stages/ingest.py")], cwd=tmp_path,
                          capture_output=True, text=True)


def test_fail_policy_exits_naming_the_row(tmp_path: Path) -> None:
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    casme_sheet(raw / "coding.xlsx", [(1, "EP02_01f", 46, 59, 86), (4, "EP12_01f", 31, "/", 60)])
    casme_frames(raw / "frames", 1, "EP02_01f", 46, 86)
    casme_frames(raw / "frames", 4, "EP12_01f", 31, 60)
    data = {"sources": ["casme2"], "on_defect": "fail",
            "casme2": {"sheet": "data/raw/coding.xlsx", "frames": "data/raw/frames"}}
    done = stage_in(tmp_path, data)
    assert done.returncode != 0
    assert "coding.xlsx row 3 (casme2/sub04/EP12_01f): apex_not_a_number" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "data/manifest.csv").exists()

    data["on_defect"] = "skip"
    done = stage_in(tmp_path, data)
    assert done.returncode == 0, done.stderr
    assert "apex_not_a_number" in done.stdout and "1 clips kept, 1 skipped" in done.stdout
    report = json.loads((tmp_path / "data/ingest_report.json").read_text())
    assert report["skipped"][0] | {"detail": None} == {
        "dataset": "casme2", "sheet": "coding.xlsx", "row": 3, "clip_id": "casme2/sub04/EP12_01f",
        "reason": "apex_not_a_number", "detail": None, "stage": "ingest"}
    assert pd.read_csv(tmp_path / "data/manifest.csv").clip_id.tolist() == ["casme2/sub01/EP02_01f"]


def test_unreadable_sheet_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "data" / "raw").mkdir(parents=True)
    (tmp_path / "data" / "raw" / "coding.xlsx").write_text("not a workbook")
    done = stage_in(tmp_path, {"sources": ["casme2"], "casme2": {"sheet": "data/raw/coding.xlsx", "frames": "data/raw/f"}})
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "coding.xlsx: not a readable .xlsx workbook" in done.stderr


def test_unknown_source_is_a_clear_error(tmp_path: Path) -> None:
    done = stage_in(tmp_path, {"sources": ["casme3"]})
    assert done.returncode != 0 and "data.sources.0: 'casme3' is not allowed" in done.stderr
