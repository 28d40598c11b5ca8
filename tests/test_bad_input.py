"""Bad input, class by class: each gets a clear outcome (a message naming the thing, no
traceback) or a skip recorded with a reason; nothing is half-written or left running."""

from __future__ import annotations

import ast
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
import yaml

from apexspot import clipfiles, config
from apexspot.ablation import markdown_table
from apexspot.datasets.manifest import check_window, frame_number
from apexspot.errors import ApexspotError, ParamsError
from apexspot.face import Detection, FrameError, onset_transform, read_frame
from apexspot.spot import frame_files, read_window

ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------ sheet cells

@pytest.mark.parametrize("cell,number", [
    ("46", 46), (" 46 ", 46), (46.0, 46), ("²", None), ("٣", None), ("1e3", None), ("12.5", None),
    (12.5, None), (True, None), (-3, None), (10**12, None), ("9" * 5000, None), ("/", None), (None, None),
])
def test_frame_numbers_are_parsed_strictly(cell, number) -> None:
    assert frame_number(cell) == number


@pytest.mark.parametrize("onset,apex,offset,reason", [
    (10, 5, 40, "apex_outside_window"), (40, 40, 10, "onset_not_before_offset"),
    (1, 500000, 999999, "window_too_long"), ("²", 5, 9, "onset_not_a_number"),
])
def test_bad_windows_are_row_defects(onset, apex, offset, reason) -> None:
    assert check_window(onset, apex, offset)[0] == reason


# ------------------------------------------------------------------ frames

@pytest.fixture(scope="module")
def jpeg() -> bytes:
    image = cv2.GaussianBlur((np.random.default_rng(0).random((120, 160)) * 255).astype(np.uint8), (0, 0), 2)
    return cv2.imencode(".jpg", image)[1].tobytes()


def damaged(data: bytes) -> bytes:
    out = bytearray(data)
    middle = len(out) // 2  # scan data overwritten in the middle; the end marker stays
    out[middle:middle + 40] = np.random.default_rng(1).integers(0, 255, 40).astype(np.uint8).tobytes()
    return bytes(out)


@pytest.mark.parametrize("case,reason", [
    ("damaged in the middle", "corrupt_frame"), ("truncated", "corrupt_frame"), ("not an image", "corrupt_frame"),
    ("missing", "missing_frame"), ("trailing bytes", None), ("intact", None),
])
def test_frames_are_decoded_strictly(tmp_path: Path, jpeg: bytes, case: str, reason: str | None) -> None:
    path = tmp_path / "img1.jpg"
    data = {"damaged in the middle": damaged(jpeg), "truncated": jpeg[: len(jpeg) // 2],
            "not an image": b"hello", "trailing bytes": jpeg + b"\x00camera-footer" * 8, "intact": jpeg}.get(case)
    if data is not None:
        path.write_bytes(data)
    if reason is None:
        assert read_frame(path).shape == (120, 160) and read_frame(path, reduction=2).shape == (60, 80)
        return
    with pytest.raises(FrameError) as err:
        read_frame(path)
    assert err.value.reason == reason and str(path) in err.value.detail


# ------------------------------------------------------------------ faces

class OneFace:
    def __init__(self, landmarks: np.ndarray) -> None:
        self.landmarks = landmarks

    def detect(self, image, views=1):
        return Detection(np.array([0, 0, 50, 50.0]), self.landmarks, 0.99, "mtcnn")


@pytest.mark.parametrize("landmarks,reason", [
    (np.array([[300, 200], [320, 200], [310, 215], [302, 228], [318, 228.0]]), "face_too_small"),
    (np.full((5, 2), 300.0), "unusable_face"),
    (np.array([[300, 200], [np.nan, 200], [310, 215], [302, 228], [318, 228.0]]), "unusable_face"),
])
def test_faces_the_alignment_cannot_use_skip_the_clip(landmarks, reason) -> None:
    with pytest.raises(FrameError) as err:
        onset_transform(np.zeros((480, 640, 3), np.uint8), "img46.jpg", OneFace(landmarks), config.AlignParams())
    assert err.value.reason == reason and "img46.jpg" in err.value.detail


# ------------------------------------------------------------------ params keys and types

def params_with(tmp_path: Path, **edits) -> Path:
    values = yaml.safe_load((ROOT / "params.yaml").read_text())
    for dotted, value in edits.items():
        node = values
        *parents, last = dotted.split("__")
        for p in parents:
            node = node[p]
        if value is DELETE:
            del node[last]
        else:
            node[last] = value
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(values))
    return path


DELETE = object()


@pytest.mark.parametrize("edits,words", [
    ({"train__epoch": 1}, ["train.epoch", "unknown key", "train.epochs"]),
    ({"face__size": "abc"}, ["face.size", "'abc'", "integer"]),
    ({"flow__size": 0}, ["flow.size", "0", "greater than or equal to 8"]),
    ({"folds__k": 1}, ["folds.k", "greater than or equal to 2"]),
    ({"flow__method": "lucas"}, ["flow.method", "'lucas'", "farneback"]),
    ({"variant": "lrn5_at"}, ["variant", "lrn5_at", "did you mean 'lrn5_att'"]),
    ({"variants__bn3__convs": 6}, ["variants.bn3.convs", "6"]),
    ({"data__sources": ["casme"]}, ["data.sources.0", "'casme'", "casme2"]),
    ({"spot__windw": 3}, ["spot.windw", "did you mean 'spot.window'"]),
    ({"trian": {}}, ["trian", "did you mean 'train'"]),
])
def test_bad_params_name_the_key(tmp_path: Path, edits: dict, words: list[str]) -> None:
    with pytest.raises(ParamsError) as err:
        config.load(params_with(tmp_path, **edits))
    message = str(err.value)
    assert "\n" not in message and all(w in message for w in words), message


def test_numbers_as_yaml_reads_them_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "params.yaml"
    path.write_text("train:\n  learning_rate: 1e-4\nflow:\n  scale: '4.0'\n  size: '75'\n")
    p = config.load(path)
    assert p.train.learning_rate == 1e-4 and p.flow.scale == 4.0 and p.flow.size == 75


def test_missing_sections_take_their_defaults(tmp_path: Path) -> None:
    p = config.load(params_with(tmp_path, variants=DELETE, spot=DELETE))
    assert set(config.PAPER_VARIANTS) < set(p.variants) and p.spot == config.SpotParams()


def test_params_yaml_lists_every_setting_at_its_default() -> None:
    """One default per setting: params.yaml shows the schema's defaults, key for key."""
    assert config.load(ROOT / "params.yaml") == config.Params()


@pytest.mark.parametrize("text,words", [
    ("train: !!python/object/apply:os.system ['echo hi']\n", ["not valid YAML", "line 1"]),
    ("train: [unclosed\n", ["not valid YAML"]),
    ("- a list\n", ["mapping"]),
])
def test_unsafe_or_broken_yaml_is_one_line(tmp_path: Path, text: str, words: list[str]) -> None:
    path = tmp_path / "params.yaml"
    path.write_text(text)
    with pytest.raises(ParamsError) as err:
        config.load(path)
    assert "\n" not in str(err.value) and str(path) in str(err.value) and all(w in str(err.value) for w in words)


@pytest.mark.parametrize("stage", ["ingest", "face_align", "flow", "fold_split", "train", "evaluate"])
def test_every_stage_stops_on_bad_params_before_any_work(tmp_path: Path, stage: str) -> None:
    params_with(tmp_path, train__epoch=1)
    done = subprocess.run([sys.executable, str(ROOT / "stages" / f"{stage}.py")], cwd=tmp_path,
                          capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "train.epoch: unknown key" in done.stderr.strip().splitlines()[-1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params.yaml"]  # nothing written


# ------------------------------------------------------------------ spot folders

def test_spot_uses_only_the_clip_frames_in_a_folder(tmp_path: Path, capsys) -> None:
    for n in (46, 47, 48, 100):
        cv2.imwrite(str(tmp_path / f"img{n}.jpg"), np.full((48, 64, 3), n, np.uint8))
    cv2.imwrite(str(tmp_path / "thumbnail.jpg"), np.zeros((10, 10, 3), np.uint8))
    cv2.imwrite(str(tmp_path / "contact_sheet_1.png"), np.zeros((10, 10, 3), np.uint8))
    (tmp_path / "notes.txt").write_text("x")
    assert [p.name for p in frame_files(tmp_path)] == ["img46.jpg", "img47.jpg", "img48.jpg", "img100.jpg"]
    assert "thumbnail.jpg" in capsys.readouterr().err


def test_spot_refuses_a_frame_of_another_size(tmp_path: Path) -> None:
    for n in (1, 2, 3):
        cv2.imwrite(str(tmp_path / f"img{n}.jpg"), np.zeros((48, 64, 3) if n != 2 else (40, 64, 3), np.uint8))
    with pytest.raises(ApexspotError, match=r"img2\.jpg is 64x40, but the onset frame img1\.jpg is 64x48"):
        read_window(tmp_path)


# ------------------------------------------------------------------ ablate failures

def row(name: str, state: str | None, mae: float | None) -> dict:
    figures = {} if mae is None else {
        "metrics/mae.json:model.mae": mae, "metrics/mae.json:model.ci_low": mae - 1,
        "metrics/mae.json:model.ci_high": mae + 1, "metrics/mae.json:model.median_ae": 2.0,
        "metrics/mae.json:model.within_5": 0.7, "metrics/mae.json:centre.mae": 9.0,
        "metrics/mae.json:centre.ci_low": 8.0, "metrics/mae.json:centre.ci_high": 10.0,
        "metrics/mae.json:diff.mean": mae - 9.0, "metrics/mae.json:diff.ci_low": mae - 10,
        "metrics/mae.json:diff.ci_high": mae - 8, "metrics/mae.json:diff.verdict": "better"}
    return {"Experiment": name, "State": state, **figures}


def test_a_failed_experiment_is_reported_failed_never_with_other_numbers() -> None:
    # A failed experiment's row can carry its baseline commit's metrics; it must not be shown.
    rows = {"ablate-bn3": row("ablate-bn3", "Failed", 11.11), "ablate-clip": row("ablate-clip", None, 4.0)}
    table, failed = markdown_table(rows, ["bn3", "bn4", "clip"])
    lines = table.splitlines()
    assert failed == ["bn3", "bn4"]
    assert lines[2] == "| bn3 | 15.88 | **failed** (no result) | | | | |" and "11.11" not in table
    assert lines[4].startswith("| clip |  | 4.00 [3.00, 5.00] |") and "significantly better" in lines[4]


# ------------------------------------------------------------------ unsafe files

def test_a_pickled_array_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "clip.npz"
    np.savez(path, flow=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ApexspotError, match=r"clip\.npz: not a readable clip file"):
        clipfiles.load(path)


def test_a_model_safe_mode_refuses_is_one_clear_line(tmp_path: Path) -> None:
    import keras

    from apexspot.model import load_model

    inputs = keras.Input((3,))
    keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs)).save(tmp_path / "lambda.keras")
    (tmp_path / "junk.keras").write_bytes(b"not a zip")
    for name in ("lambda.keras", "junk.keras"):
        with pytest.raises(ApexspotError) as err:
            load_model(tmp_path / name)
        assert str(err.value).startswith(str(tmp_path / name)) and "\n" not in str(err.value)


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
    return {str(Path(p).relative_to(ROOT)) for p in seen}


@pytest.mark.parametrize("stage", ["ingest", "face-align", "flow", "fold-split", "train", "evaluate"])
def test_dvc_yaml_declares_every_module_a_stage_runs(stage: str) -> None:
    deps = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"][stage]["deps"]
    script = ROOT / "stages" / f"{stage.replace('-', '_')}.py"
    missing = [m for m in imported_modules(script)
               if m != "apexspot/datasets/__init__.py" and not any(m == d or m.startswith(d + "/") for d in deps)]
    assert str(script.relative_to(ROOT)) in deps and not missing, missing


def test_a_saved_model_depends_only_on_its_weights(tmp_path: Path) -> None:
    import keras

    from apexspot.training import save_model

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
        from apexspot.workers import map_clips
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
    from apexspot.datasets.manifest import Clip, Skipped, to_frame
    from apexspot.files import write_json

    clips = [Clip(f"casme2/sub0{i}/EP0{i}", f"casme2-0{i}", "casme2", f"EP0{i}", 10, 15, 30, 21, "f", "img{frame}.jpg",
                  "", "", "", "s.xlsx", i + 1) for i in range(1, 5)]
    (tmp_path / "data").mkdir()
    to_frame(clips).to_csv(tmp_path / "data/manifest.csv", index=False)
    lost = Skipped.of(clips[3], "face-align", "no_face", "no face found in img10.jpg")
    write_json(tmp_path / "data/flow_clips.json", {"stage": "flow", "clips": [c.clip_id for c in clips[:3]],
                                                   "skipped": [vars(lost)]})
    (tmp_path / "params.yaml").write_text("folds: {k: 3}\n")
    done = subprocess.run([sys.executable, str(ROOT / "stages" / "fold_split.py")], cwd=tmp_path,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "casme2/sub04/EP04 (face-align): no_face: no face found in img10.jpg" in done.stdout
    folds = yaml.safe_load((tmp_path / "data/folds.json").read_text())
    assert sorted(c for f in folds["folds"] for c in f["clips"]) == [c.clip_id for c in clips[:3]]
