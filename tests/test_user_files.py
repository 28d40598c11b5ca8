"""Nothing the user owns is deleted, nothing a stage reads escapes DVC, folds are checked where
they are used, and a sheet is read one way by ingest and by `apexspot sheet`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import casme_frames, casme_sheet
from defaults import data_params

from apexspot.clips import casme2, sources
from apexspot.clips.manifest import Clip, to_frame
from apexspot.core import config
from apexspot.core.errors import ParamsError
from apexspot.core.folds import FoldError, read_folds
from apexspot.core.sources import outside_raw

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def stage(name: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "stages" / f"{name}.py")], cwd=cwd, capture_output=True,
                          text=True, env=ENV)


def write_params(folder: Path, edit) -> None:
    values = yaml.safe_load((ROOT / "params.yaml").read_text())
    edit(values)
    (folder / "params.yaml").write_text(yaml.safe_dump(values))


# ------------------------------------------------------------------ nothing of the user's is deleted

@pytest.mark.parametrize("sources_", [["synthetic"], ["casme2"]])
def test_no_setting_names_a_folder_that_ingest_empties(tmp_path: Path, sources_: list[str]) -> None:
    """The synthetic dataset's folder is ingest's own DVC output (data/synthetic), not a
    setting: pointing one at the user's datasets is refused and deletes nothing."""
    mine = tmp_path / "data" / "raw"
    mine.mkdir(parents=True)
    (mine / "README.md").write_text("my notes")

    def edit(values: dict) -> None:
        values["data"]["sources"] = sources_
        values["data"]["synthetic"]["root"] = str(mine)

    write_params(tmp_path, edit)
    with pytest.raises(ParamsError, match="data.synthetic.root: unknown key"):
        config.load(tmp_path / "params.yaml")
    done = stage("ingest", tmp_path)
    assert done.returncode != 0 and "data.synthetic.root: unknown key" in done.stderr.strip().splitlines()[-1]
    assert (mine / "README.md").read_text() == "my notes"


# ------------------------------------------------------------------ everything read is hashed by DVC

def test_a_clip_folder_linked_out_of_the_dataset_root_is_skipped(tmp_path: Path) -> None:
    root = tmp_path / "CASME2_RAW_selected"
    casme_frames(root, 1, "EP02_01f", 46, 86)
    elsewhere = casme_frames(tmp_path / "elsewhere", 2, "EP03_02", 10, 40)
    (root / "sub02").mkdir()
    (root / "sub02" / "EP03_02").symlink_to(elsewhere, target_is_directory=True)
    v = casme2.read(casme_sheet(tmp_path / "c.xlsx", [(1, "EP02_01f", 46, 59, 86), (2, "EP03_02", 10, 20, 40)]), root)
    assert [c.clip_id for c in v.kept] == ["casme2/sub01/EP02_01f"]
    [skipped] = v.skipped
    assert skipped.reason == "outside_dataset_root" and skipped.row == 3 and str(elsewhere) in skipped.detail


def test_a_dataset_outside_data_raw_is_refused_naming_the_key(tmp_path: Path) -> None:
    data = data_params(sources=["casme2"], casme2={"frames": str(tmp_path / "CASME2"), "sheet": "data/raw/c.xlsx"})
    [problem] = outside_raw(data, "data")
    assert problem.startswith(f"data.casme2.frames: {tmp_path / 'CASME2'} is outside data/raw/")
    assert outside_raw(data_params(sources=["synthetic"]), "data") == []

    def edit(values: dict) -> None:
        values["data"]["sources"] = ["casme2"]
        values["data"]["casme2"]["frames"] = str(tmp_path / "CASME2")

    write_params(tmp_path, edit)
    done = stage("ingest", tmp_path)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "data.casme2.frames" in done.stderr and "outside data/raw/" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params.yaml"]  # nothing written


# ------------------------------------------------------------------ folds checked where they are used

def clip(i: int, subject: str) -> Clip:
    return Clip(f"casme2/{subject}/EP0{i}", f"casme2-{subject}", "casme2", f"EP0{i}", 10, 15, 30, 21, "f",
                "img{frame}.jpg", "", "", "", "s.xlsx", i + 1)


CLIPS = [clip(1, "01"), clip(2, "01"), clip(3, "02"), clip(4, "03")]


def folds_file(path: Path, folds: list[list[str]]) -> Path:
    path.write_text(json.dumps({"folds": [{"fold": k, "clips": c} for k, c in enumerate(folds)]}))
    return path


@pytest.mark.parametrize("folds,words", [
    ([["casme2/01/EP01", "casme2/01/EP02"], ["casme2/02/EP03", "casme2/01/EP01"]],
     "clip casme2/01/EP01 is in folds 0 and 1"),
    ([["casme2/01/EP01", "casme2/02/EP03"], ["casme2/01/EP02"]], "subject casme2-01 is in folds 0 and 1"),
    ([["casme2/01/EP01"], ["casme2/09/EP09"]], "clip casme2/09/EP09 (fold 1) is not in data/manifest.csv"),
])
def test_folds_that_would_test_a_model_on_its_training_data_are_refused(tmp_path: Path, folds, words) -> None:
    with pytest.raises(FoldError, match=words.replace("(", r"\(").replace(")", r"\)")):
        read_folds(str(folds_file(tmp_path / "folds.json", folds)), {c.clip_id: c for c in CLIPS})


@pytest.mark.parametrize("name", ["train", "evaluate"])
def test_train_and_evaluate_check_the_folds_before_any_work(tmp_path: Path, name: str) -> None:
    (tmp_path / "data").mkdir()
    to_frame(CLIPS).to_csv(tmp_path / "data" / "manifest.csv", index=False)
    folds_file(tmp_path / "data" / "folds.json", [["casme2/01/EP01", "casme2/01/EP02", "casme2/02/EP03"],
                                                  ["casme2/03/EP04", "casme2/02/EP03"]])
    write_params(tmp_path, lambda values: None)
    done = stage(name, tmp_path)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f"{name}: error: data/folds.json: clip casme2/02/EP03 is in folds 0 and 1")
    assert not (tmp_path / "models").exists() and not (tmp_path / "metrics").exists()


# ------------------------------------------------------------------ one reading of a sheet

def test_apexspot_sheet_reports_what_ingest_keeps_and_skips(tmp_path: Path) -> None:
    root = tmp_path / "frames"
    casme_frames(root, 1, "EP02_01f", 46, 86)
    casme_frames(root, 2, "EP03_02", 10, 40)
    sheet = casme_sheet(tmp_path / "c.xlsx", [(1, "EP02_01f", 46, 59, 86), (1, "EP02_01f", 46, 60, 86),
                                              (2, "EP03_02", 10, 20, 40), ("02", "EP03_02", 10, 21, 40)])
    ingest = sources.collect(data_params(sources=["casme2"], casme2={"sheet": str(sheet), "frames": str(root)}))
    done = subprocess.run([sys.executable, "-m", "apexspot.cli", "sheet", str(sheet), "--dataset", "casme2",
                           "--frames", str(root)], capture_output=True, text=True, cwd=tmp_path, env=ENV)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "ingest: 2 clips kept, 2 skipped"
    assert (len(ingest.kept), len(ingest.skipped)) == (2, 2)
    assert {s.reason for s in ingest.skipped} == {"duplicate_clip_id"} and "duplicate_clip_id" in done.stdout


def test_apexspot_synthetic_writes_a_new_folder_whole_and_never_into_one_that_holds_files(tmp_path: Path) -> None:
    def synthetic(out: Path) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "apexspot.cli", "synthetic", str(out), "--subjects", "1",
                               "--clips-per-subject", "1", "--workers", "1"], cwd=ROOT, capture_output=True,
                              text=True, env=ENV, timeout=300)

    done = synthetic(tmp_path / "new")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == [
        "CASME2-coding-synthetic.xlsx", "CASME2_RAW_selected", "clips.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new"]  # no temporary folder left beside it
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    refused = synthetic(tmp_path / "mine")
    assert refused.returncode != 0 and "not empty" in refused.stderr
    assert [p.name for p in (tmp_path / "mine").iterdir()] == ["notes.txt"]
