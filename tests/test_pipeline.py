"""End to end: `dvc repro` through the stages in a temporary git+DVC copy, on a tiny dataset."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
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


def test_repro_runs_preprocessing(project: Project) -> None:
    done = project.dvc("repro")
    assert {"ingest", "face-align", "flow"} <= ran(done.stdout)
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


def test_second_repro_is_a_noop(project: Project) -> None:
    done = project.dvc("repro")
    assert ran(done.stdout) == set()
    assert project.status() == {}


def test_changing_a_flow_param_reruns_flow_only(project: Project) -> None:
    project.set_params(**{"flow.method": "dis"})
    done = project.dvc("repro")
    assert ran(done.stdout) == {"flow"}
    flow_report = json.loads((project.path / "data/flow_report.json").read_text())
    assert flow_report["params"]["method"] == "dis"
