"""End to end: `dvc repro` through the stages in a temporary git+DVC copy, on a tiny dataset."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from project import TINY, Project

from apexspot import clipfiles


def ran(output: str) -> set[str]:
    return set(re.findall(r"Running stage '([\w-]+)'", output))


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    project = Project(tmp_path_factory.mktemp("pipeline") / "proj")
    project.set_params(**TINY)
    project.commit("tiny")
    return project


def test_repro_runs_every_stage(project: Project) -> None:
    done = project.dvc("repro")
    assert {"ingest", "face-align", "flow", "fold-split", "train"} <= ran(done.stdout)
    report = json.loads((project.path / "data/face_align_report.json").read_text())
    assert report["aligned"] == 2 and report["skipped"] == [] and report["detectors"] == {"mtcnn": 2}
    for clip in ("synthetic/sub01", "synthetic/sub02"):
        [aligned] = (project.path / "data/aligned" / clip).glob("*.npz")
        frames = clipfiles.load(aligned)["frames"]
        assert frames.shape[1:] == (128, 128) and frames.dtype == np.uint8
        flow = clipfiles.load(project.path / "data/flow" / clip / aligned.name)["flow"]
        assert flow.shape == (len(frames), 75, 75, 3) and flow.dtype == np.float16
        assert np.all(flow[0] == 0) and np.abs(flow[1:]).max() > 0
    assert len(list((project.path / "data/flow_preview").glob("*.png"))) == 2


def test_train_writes_a_model_and_a_dvclive_log_per_fold(project: Project) -> None:
    folds = json.loads((project.path / "data/folds.json").read_text())
    assert folds["k"] == 2 and sorted(folds["subjects"]) == ["synthetic-01", "synthetic-02"]
    assert sorted(p.name for p in (project.path / "models").iterdir()) == ["fold_0.keras", "fold_1.keras"]
    for k in (0, 1):
        log = project.path / f"metrics/train/fold_{k}"
        assert len((log / "plots/metrics/train/loss.tsv").read_text().splitlines()) == 2  # header + 1 epoch
        params = yaml.safe_load((log / "params.yaml").read_text())
        assert params["variant"] == "lrn5_att" and params["device"] == "CPU" and params["fold"] == k


def test_second_repro_is_a_noop(project: Project) -> None:
    done = project.dvc("repro")
    assert ran(done.stdout) == set()
    assert project.status() == {}


def test_changing_a_flow_param_does_not_rerun_face_align(project: Project) -> None:
    project.set_params(**{"flow.method": "dis"})
    done = project.dvc("repro")
    assert "flow" in ran(done.stdout) and not {"ingest", "face-align", "fold-split"} & ran(done.stdout)
    flow_report = json.loads((project.path / "data/flow_report.json").read_text())
    assert flow_report["params"]["method"] == "dis"
