"""Outputs DVC can trust: every module a stage runs is a dependency, saved models depend
only on their weights, a killed stage leaves no worker, a stage says which input is missing."""


from __future__ import annotations

import ast
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import yaml



ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------ outputs DVC can trust

def imported_modules(script: Path) -> set[str]:
    """apexspot source files a script imports, directly or through other apexspot modules."""
    seen: set[str] = set()
    todo = [script]
    while todo:
        for node in ast.walk(ast.parse(todo.pop().read_text())):
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names] \
                if isinstance(node, ast.ImportFrom) and node.module else \
                [a.name for a in node.names] if isinstance(node, ast.Import) else []
            for name in names:
                base = ROOT / Path(*name.split("."))
                path = base.with_suffix(".py") if base.with_suffix(".py").exists() else base / "__init__.py"
                if name.startswith("apexspot") and path.exists() and str(path) not in seen:
                    seen.add(str(path))
                    todo.append(path)
    found = {str(Path(p).relative_to(ROOT)) for p in seen}
    # importing apexspot.core.config runs apexspot/__init__.py and apexspot/core/__init__.py first
    return found | {str(Path(*Path(m).parts[:i]) / "__init__.py") for m in found for i in range(1, len(Path(m).parts) - 1)}


@pytest.mark.parametrize("pipeline,stage", [("", s) for s in ("ingest", "face-align", "flow", "fold-split", "train",
                                                              "evaluate", "recognise")]
                         + [("recordings", s) for s in ("ingest", "preprocess", "fold-split", "train", "evaluate",
                                                        "recognise")])
def test_dvc_yaml_declares_every_module_a_stage_runs(pipeline: str, stage: str) -> None:
    deps = yaml.safe_load((ROOT / pipeline / "dvc.yaml").read_text())["stages"][stage]["deps"]
    script = ROOT / "stages" / pipeline / f"{stage.replace('-', '_')}.py"
    missing = [m for m in imported_modules(script)
               if m != "apexspot/clips/__init__.py" and not any(m == d or m.startswith(d + "/") for d in deps)]
    assert str(script.relative_to(ROOT)) in deps and not missing, missing
    # and no module it does not run: editing a baseline must not retrain every fold
    stale = [d for d in deps if d.startswith("apexspot/")
             and not any(m == d or m.startswith(d + "/") for m in imported_modules(script))]
    assert not stale, stale


def test_a_saved_model_depends_only_on_its_weights(tmp_path: Path) -> None:
    import keras

    from apexspot.core.modelfiles import save_model

    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.ones((8, 4)), np.ones((8, 2)), verbose=0)
    save_model(model, tmp_path / "a.keras")
    time.sleep(1.1)  # a save date or zip time would now differ
    save_model(model, tmp_path / "b.keras")
    assert (tmp_path / "a.keras").read_bytes() == (tmp_path / "b.keras").read_bytes()
    import zipfile

    assert "optimizer" not in " ".join(zipfile.ZipFile(tmp_path / "a.keras").namelist())


def test_killing_a_stage_leaves_no_worker_running(tmp_path: Path) -> None:
    script = tmp_path / "stage.py"
    script.write_text(textwrap.dedent("""
        import os, time, sys
        from apexspot.core.workers import map_clips
        def work(job):
            print("worker", os.getpid(), flush=True)
            time.sleep(60)
        for _ in map_clips(work, [1, 2], workers=2, show_progress=False):
            pass
    """))
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, cwd=tmp_path)
    # Which worker takes which job is the pool's business: take the workers from the process
    # tree once one of them is inside a job, so the test does not depend on the jobs spreading.
    line = parent.stdout.readline()
    if not line.startswith("worker"):
        parent.kill()
        pytest.fail(f"the stage did not start its workers: {line!r} {parent.communicate()[1][-2000:]}")
    deadline = time.time() + 30
    while len(workers := children(parent.pid)) < 2 and time.time() < deadline:
        time.sleep(0.1)
    assert len(workers) == 2, f"expected 2 workers under the stage, found {workers}"
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.time() + 10
    while time.time() < deadline and any(alive(pid) for pid in workers):
        time.sleep(0.2)
    assert not any(alive(pid) for pid in workers)


def children(pid: int) -> list[int]:
    """Live child processes of `pid`, read from /proc (field 4 of stat is the parent)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.mark.parametrize("stage,missing", [("fold_split", "data/manifest.csv"), ("evaluate", "data/manifest.csv")])
def test_a_stage_run_before_its_inputs_exist_says_which(tmp_path: Path, stage: str, missing: str) -> None:
    (tmp_path / "params.yaml").write_text((ROOT / "params.yaml").read_text())
    done = subprocess.run([sys.executable, str(ROOT / "stages" / f"{stage}.py")], cwd=tmp_path,
                          capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert f"{missing}: missing" in done.stderr.strip().splitlines()[-1]


def test_fold_split_splits_only_clips_that_reached_flow_and_says_why_others_did_not(tmp_path: Path) -> None:
    from apexspot.clips.manifest import Clip, Skipped, to_frame
    from apexspot.core.files import write_json

    clips = [Clip(f"casme2/sub0{i}/EP0{i}", f"casme2-0{i}", "casme2", f"EP0{i}", 10, 15, 30, 21, "f", "img{frame}.jpg",
                  "", "", "", "s.xlsx", i + 1) for i in range(1, 5)]
    (tmp_path / "data").mkdir()
    to_frame(clips).to_csv(tmp_path / "data/manifest.csv", index=False)
    lost = Skipped.of(clips[3], "face-align", "no_face", "no face found in img10.jpg")
    write_json(tmp_path / "data/flow_clips.json", {"stage": "flow", "clips": [c.clip_id for c in clips[:3]],
                                                   "skipped": [vars(lost)]})
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["folds"]["k"] = 3
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    done = subprocess.run([sys.executable, str(ROOT / "stages" / "fold_split.py")], cwd=tmp_path,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "casme2/sub04/EP04 (face-align): no_face: no face found in img10.jpg" in done.stdout
    folds = yaml.safe_load((tmp_path / "data/folds.json").read_text())
    assert sorted(c for f in folds["folds"] for c in f["clips"]) == [c.clip_id for c in clips[:3]]


def changed_code(project, pipeline: str = "dvc.yaml") -> set[tuple[str, str]]:
    """(stage, apexspot path) for every code dependency `dvc status` calls modified."""
    status = json.loads(project.dvc("status", "--json", pipeline).stdout or "{}")
    return {(stage, path) for stage, entries in status.items() for entry in entries if isinstance(entry, dict)
            for path in entry.get("changed deps", {}) if path.startswith("apexspot")}


def test_editing_the_recordings_package_leaves_the_short_clip_pipeline_alone(tmp_path: Path) -> None:
    """Stage dependencies follow the packages: the short-clip stages depend on apexspot/core and
    apexspot/clips (folders), never on apexspot/recordings, and nothing there imports it."""
    from project import Project

    project = Project(tmp_path)
    shutil.copy2(ROOT / "dvc.lock", tmp_path / "dvc.lock")
    before = changed_code(project)
    with open(tmp_path / "apexspot" / "recordings" / "track.py", "a") as f:
        f.write("# an edit\n")
    assert changed_code(project) == before
    with open(tmp_path / "apexspot" / "clips" / "apex.py", "a") as f:
        f.write("# an edit\n")  # the control: an edit the short-clip pipeline runs is seen
    assert changed_code(project) >= {("train", "apexspot/clips"), ("evaluate", "apexspot/clips")}
