"""The Keras backends the README names: the whole pipeline and `apexspot spot` under JAX.

Face detection (MTCNN) is written for TensorFlow: it runs on TensorFlow in its own worker
processes whatever KERAS_BACKEND says, so the backend choice reaches only the spotters.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml
from project import TINY, Project


def test_the_pipeline_and_spot_run_on_jax(tmp_path: Path) -> None:
    project = Project(tmp_path / "proj")
    project.set_params(**TINY)
    project.commit("tiny")
    jax = {"KERAS_BACKEND": "jax"}
    done = project.run(sys.executable, "-m", "dvc", "repro", env_extra=jax)
    assert "Traceback" not in done.stdout + done.stderr
    report = json.loads((project.path / "data/face_align_report.json").read_text())
    assert report["produced"] == 2 and report["skipped"] == []  # MTCNN found both faces
    ran_on = json.loads((project.path / "models/environment.json").read_text())  # cached, not in git
    assert ran_on["backend"] == "jax" and isinstance(ran_on["jax"], str)
    logged = yaml.safe_load((project.path / "metrics/train/fold_0/params.yaml").read_text())
    assert "python" not in logged and "backend" not in logged  # git-tracked: nothing of the machine
    mae = json.loads((project.path / "metrics/mae.json").read_text())
    assert mae["clips"] == 2 and mae["model"]["ci_low"] <= mae["model"]["mae"] <= mae["model"]["ci_high"]
    recognition = json.loads((project.path / "metrics/recognition.json").read_text())  # the recognise stage, on JAX
    assert recognition["scored_clips"] == 2 and 0 <= recognition["ours_spotted_uf1"] <= 1
    [clip] = [c for c in (project.path / "data/synthetic/CASME2_RAW_selected/sub01").iterdir()]
    first = min(int(p.stem[3:]) for p in clip.glob("img*.jpg"))
    spotted = project.run(sys.executable, "-m", "apexspot.cli", "spot", str(clip), "--onset", str(first), "--json",
                          env_extra=jax)
    result = json.loads(spotted.stdout)
    assert result["detector"] == "mtcnn, followed" and result["onset"] <= result["apex"] <= result["offset"]
    assert result["class"] in ("negative", "positive", "surprise")  # the pipeline's classifiers, loaded on JAX
