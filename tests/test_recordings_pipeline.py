"""The long-recording pipeline end to end: `dvc repro recordings/dvc.yaml` in a throwaway
git+DVC copy of the project, on the JAX backend (the interval spotter is keras.ops only),
then a variant as a DVC experiment."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import yaml
from project import TINY_RECORDINGS, Project


def test_recordings_pipeline_runs_end_to_end_on_jax_and_variants_run_as_experiments(tmp_path: Path) -> None:
    project = Project(tmp_path / "proj", recordings=True)
    project.set_params(**TINY_RECORDINGS)
    project.commit("tiny")
    jax = {"KERAS_BACKEND": "jax"}
    done = project.run(sys.executable, "-m", "dvc", "repro", "recordings/dvc.yaml", env_extra=jax)
    assert "Traceback" not in done.stdout + done.stderr
    assert "frames/s" in done.stdout and "micro F1" in done.stdout
    f1 = json.loads((project.path / "metrics/recordings/f1.json").read_text())
    assert list(f1)[0] == "micro_f1"  # what `dvc exp show` lists first
    for kind in ("micro", "macro", "overall"):
        assert 0 <= f1[f"{kind}_f1_ci_low"] <= f1[f"{kind}_f1"] <= f1[f"{kind}_f1_ci_high"] <= 1
        assert f1[f"flow_peaks_{kind}_f1_ci_low"] <= f1[f"flow_peaks_{kind}_f1"] <= f1[f"flow_peaks_{kind}_f1_ci_high"]
        low, high = f1[f"{kind}_f1_minus_flow_peaks_ci_low"], f1[f"{kind}_f1_minus_flow_peaks_ci_high"]
        assert low <= high
    assert f1["recordings"] == 3 and f1["subjects"] == 3
    intervals = pd.read_csv(project.path / "metrics/recordings/intervals.csv")
    coded = pd.read_csv(project.path / "data/recordings/intervals.csv")
    assert (intervals["source"] == "coded").sum() == len(coded)
    assert set(intervals["source"]) <= {"coded", "model", "flow_peaks"}
    per_fold = pd.read_csv(project.path / "metrics/recordings/per_fold.csv")
    assert list(per_fold["fold"]) == [0, 1] and "model_micro_f1" in per_fold
    ran_on = json.loads((project.path / "recordings/models/environment.json").read_text())  # DVC-cached
    assert ran_on["backend"] == "jax" and isinstance(ran_on["jax"], str)
    logged = yaml.safe_load((project.path / "metrics/recordings/train/fold_0/params.yaml").read_text())
    assert "backend" not in logged and "python" not in logged and logged["fold"] == 0  # git-tracked: no machine
    report = json.loads((project.path / "data/recordings/preprocess_report.json").read_text())
    assert report["recordings"] == 3 and report["frames"] == 3 * 180
    strs = json.loads((project.path / "metrics/recordings/strs.json").read_text())
    report = json.loads((project.path / "metrics/recordings/recognition_report.json").read_text())
    # Three 6-s recordings code one micro-expression (s16's, positive). Fold 0 holds s15 and s16: its training
    # recording (s17) codes nothing to learn from, so fold 0 has no classifier and says so; fold 1 (s17) is
    # scored, and neither codes nor spots anything there: STRS 0 from 0 pairs.
    assert [(f["fold"], f["recordings"]) for f in report["folds_not_trained"]] == [
        (0, ["synthetic/s15/0101", "synthetic/s16/0102"])]
    assert strs["recordings_scored"] == 1 and strs["pairs_analysed"] == 0 and strs["strs"] == 0.0
    assert sorted(p.name for p in (project.path / "recordings/recognisers").iterdir()) == ["fold_1.json", "fold_1.keras"]
    assert "recordings/recognise:" in done.stdout
    assert project.status("recordings/dvc.yaml") == {}
    project.dvc("plots", "show")  # (it warns of the short-clip pipeline's files: that one has not run here)
    html = (project.path / "dvc_plots" / "index.html").read_text()
    assert "Spotted and coded intervals on the timeline" in html and "Micro-expression F1 per fold" in html
    # A variant of the interval spotter as a DVC experiment: only training and evaluation rerun.
    project.commit("ran")
    exp = project.run(sys.executable, "-m", "dvc", "exp", "run", "recordings/dvc.yaml", "-S",
                      "recordings.spotter.width=8", env_extra=jax)
    assert "Running stage 'recordings/dvc.yaml:train'" in exp.stdout
    assert "Running stage 'recordings/dvc.yaml:preprocess'" not in exp.stdout
    table = project.dvc("exp", "show", "--csv").stdout
    assert "micro_f1" in table.splitlines()[0] and "recordings.spotter.width" in table.splitlines()[0]
