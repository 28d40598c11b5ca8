"""The second round of bad input and faults, by topic: each gets one line naming the file, key
or frame and what is wrong (or a warning saying where), never a traceback and never a
half-written output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from defaults import CHANNELS, clip_variant, frame_variant

from apexspot.clips.spotters import spotter
from apexspot.clips.trained import TrainedFold
from apexspot.core import arrayfiles, config
from apexspot.core.errors import ApexspotError, ParamsError, SheetError, run_stage
from apexspot.core.face import FrameError, read_frame
from apexspot.spot.plots import check_plot_path
from apexspot.spot.source import read_window

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


# ------------------------------------------------------------------ params.yaml as DVC reads it

BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b]\n"


@pytest.mark.parametrize("text,words", [
    (BOMB, ["line 1", "anchors and aliases"]),
    ("train:\n  seed: 0\n  seed: 1\n", ["duplicate key 'seed'", "line 3"]),
    ("workers: 0\nworkers: 2\n", ["duplicate key 'workers'", "line 2"]),
])
def test_params_yaml_that_dvc_would_misread_is_refused_in_one_line(tmp_path: Path, text: str, words) -> None:
    path = tmp_path / "params.yaml"
    path.write_text(text)
    with pytest.raises(ParamsError) as err:
        config.load(path)
    assert "\n" not in str(err.value) and all(w in str(err.value) for w in words), str(err.value)


def test_apexspot_check_reads_params_yaml_before_dvc_does(tmp_path: Path) -> None:
    (tmp_path / "params.yaml").write_text(BOMB)
    done = subprocess.run([sys.executable, "-m", "apexspot.cli", "check"], cwd=tmp_path, capture_output=True,
                          text=True, env=ENV, timeout=60)
    assert done.returncode != 0 and "anchors and aliases" in done.stderr and "Traceback" not in done.stderr
    done = subprocess.run([sys.executable, "-m", "apexspot.cli", "check", str(ROOT / "params.yaml")],
                          capture_output=True, text=True, env=ENV, timeout=60)
    assert done.returncode == 0 and "every setting present and valid; variant clip (clip)" in done.stdout


# ------------------------------------------------------------------ model files and fold records

@pytest.fixture(scope="module")
def fold_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fold")
    s = spotter(clip_variant(width=8), CHANNELS)
    TrainedFold(s.build((75, 75, 3)), s).save(root / "clip.keras")
    f = spotter(frame_variant(convs=3, attention=False), CHANNELS)
    TrainedFold(f.build((75, 75, 3)), f).save(root / "frame.keras")
    return root


def copy_fold(fold_dir: Path, tmp_path: Path, kind: str, record: dict | None = None, model: bytes | None = None) -> Path:
    target = tmp_path / "fold_0.keras"
    target.write_bytes(model if model is not None else (fold_dir / f"{kind}.keras").read_bytes())
    values = json.loads((fold_dir / f"{kind}.json").read_text())
    target.with_suffix(".json").write_text(json.dumps({**values, **(record or {})}))
    return target


@pytest.mark.parametrize("model,words", [
    (b"not a model at all", "not a Keras model file"),
    (b"<html><body>404</body></html>", "not a Keras model file"),
])
def test_a_model_file_that_is_not_a_model_is_one_line(fold_dir: Path, tmp_path: Path, model, words) -> None:
    path = copy_fold(fold_dir, tmp_path, "clip", model=model)
    with pytest.raises(ApexspotError, match=words) as err:
        TrainedFold.load(path)
    assert str(err.value).startswith(str(path)) and "\n" not in str(err.value)


def test_a_truncated_model_file_is_one_line(fold_dir: Path, tmp_path: Path) -> None:
    whole = (fold_dir / "clip.keras").read_bytes()
    path = copy_fold(fold_dir, tmp_path, "clip", model=whole[: len(whole) // 2])
    with pytest.raises(ApexspotError) as err:
        TrainedFold.load(path)
    assert str(err.value).startswith(str(path)) and "\n" not in str(err.value)


def test_a_model_of_the_other_kind_is_one_line(fold_dir: Path, tmp_path: Path) -> None:
    path = copy_fold(fold_dir, tmp_path, "clip", model=(fold_dir / "frame.keras").read_bytes())
    with pytest.raises(ApexspotError, match="says it is a clip spotter") as err:
        TrainedFold.load(path)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("prior,words", [
    ({"a": float("nan"), "b": 2.0, "uniform": 0.1, "clips": 9}, "prior.a is nan"),
    ({"a": -1, "b": 2.0, "uniform": 0.1, "clips": 9}, "prior.a is -1"),
    ({"a": "two", "b": 2.0, "uniform": 0.1, "clips": 9}, "prior.a is 'two'"),
    ({"a": 2.0, "b": 2.0, "uniform": 1e308 * 10, "clips": 9}, "prior.uniform is inf"),
    ([1, 2], "prior must be a mapping"),
])
def test_a_fold_record_with_a_prior_training_never_writes_is_one_line(fold_dir: Path, tmp_path: Path, prior,
                                                                       words) -> None:
    path = copy_fold(fold_dir, tmp_path, "clip")
    record = json.loads(path.with_suffix(".json").read_text()) | {"prior": prior}
    path.with_suffix(".json").write_text(json.dumps(record))  # json writes NaN and Infinity as Python reads them
    with pytest.raises(ApexspotError, match=words) as err:
        TrainedFold.load(path)
    assert "fold_0.json" in str(err.value) and "\n" not in str(err.value)


# ------------------------------------------------------------------ sheets whose XML is hostile

LAUGHS = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10 if i else "lol"}">' for i in range(10))


@pytest.mark.parametrize("doctype,entity", [
    (f"<!DOCTYPE worksheet [{LAUGHS}]>", "&l9;"),  # a billion laughs
    ('<!DOCTYPE worksheet [<!ENTITY e SYSTEM "file:///etc/passwd">]>', "&e;"),
])
def test_a_sheet_with_an_entity_bomb_or_external_entity_is_one_line(tmp_path: Path, doctype: str,
                                                                    entity: str) -> None:
    import zipfile

    from conftest import casme_sheet

    from apexspot.clips import casme2

    plain = casme_sheet(tmp_path / "plain.xlsx", [(1, "EP02_01f", 46, 59, 86)])
    hostile = tmp_path / "hostile.xlsx"
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(hostile, "w") as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = doctype.encode() + data.replace(b"</worksheet>", entity.encode() + b"</worksheet>")
            target.writestr(info, data)
    with pytest.raises(SheetError) as err:
        casme2.read(hostile)
    assert str(err.value).startswith(str(hostile)) and "\n" not in str(err.value)


# ------------------------------------------------------------------ disk full, half-written files

def test_a_failed_write_leaves_no_truncated_clip_file(tmp_path: Path, monkeypatch) -> None:
    def half_then_full(file, **arrays):
        file.write(b"PK\x03\x04 half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", half_then_full)
    with pytest.raises(OSError):
        arrayfiles.save(tmp_path / "flow" / "c.npz", flow=np.zeros(3))
    assert list((tmp_path / "flow").iterdir()) == []


def test_a_file_size_limit_hit_by_a_stage_is_one_line_and_no_truncated_file(tmp_path: Path) -> None:
    code = ("import resource, numpy as np\n"
            "from apexspot.core import arrayfiles\nfrom apexspot.core.errors import run_stage\n"
            "resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))\n"
            "run_stage('flow', lambda: arrayfiles.save(__import__('pathlib').Path('out/c.npz'), flow=np.zeros(50000)))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, env=ENV)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert done.stderr.strip().startswith("flow: error: ") and "File too large" in done.stderr
    assert [p for p in (tmp_path / "out").iterdir()] == []


def test_disk_full_is_one_line_naming_the_file() -> None:
    def full() -> None:
        raise OSError(28, "No space left on device", "data/flow/c.npz")

    with pytest.raises(SystemExit) as exit_:
        run_stage("flow", full)
    assert str(exit_.value).startswith("flow: error: data/flow/c.npz: No space left on device")


# ------------------------------------------------------------------ spot's paths, checked first

def test_a_plot_path_that_cannot_be_written_is_refused_before_any_work(tmp_path: Path) -> None:
    with pytest.raises(ApexspotError, match="no folder"):
        check_plot_path(tmp_path / "nowhere" / "p.png")
    with pytest.raises(ApexspotError, match="is a folder"):
        check_plot_path(tmp_path)
    with pytest.raises(ApexspotError, match="PNG"):
        check_plot_path(tmp_path / "p.jpg")
    check_plot_path(tmp_path / "p.png")


# ------------------------------------------------------------------ frames that lie

def test_a_gap_in_a_folders_numbering_is_said_with_where(tmp_path: Path, capsys) -> None:
    for n in [*range(10, 30), *range(50, 60)]:
        cv2.imwrite(str(tmp_path / f"img{n}.jpg"), np.full((48, 64, 3), 100, np.uint8))
    clip = read_window(tmp_path)
    assert clip.numbers[0] == 10 and clip.numbers[-1] == 59 and len(clip.numbers) == 30
    assert "no frame numbered 30..49 (20 missing in the window)" in capsys.readouterr().err


def test_a_video_shorter_than_its_header_is_said_with_both_numbers(tmp_path: Path, capsys) -> None:
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25, (64, 48))
    rng = np.random.default_rng(0)
    for _ in range(70):
        writer.write(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8))
    writer.release()
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * 0.6)])  # a copy cut short: the header still says 70
    clip = read_window(path)
    err = capsys.readouterr().err
    assert "its header says 70 frames, but" in err and f"{clip.length} can be decoded" in err
    assert 0 < clip.length < 70 and len(list(clip.frames())) == clip.length


def test_a_frame_stored_rotated_is_read_as_a_viewer_shows_it(tmp_path: Path) -> None:
    from PIL import Image, ImageOps

    picture = np.zeros((40, 60, 3), np.uint8)
    picture[:10, :20] = 255  # a bright corner: where it lands says how the frame was turned
    for orientation in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = orientation
        path = tmp_path / f"o{orientation}.jpg"
        Image.fromarray(picture).save(path, quality=95, exif=exif)
        expected = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("L"))
        got = read_frame(path)
        assert got.shape == expected.shape, orientation
        assert np.abs(got.astype(int) - expected.astype(int)).mean() < 3, orientation


def test_a_header_claiming_an_absurd_size_is_refused_before_decoding(tmp_path: Path) -> None:
    ok, jpeg = cv2.imencode(".jpg", np.zeros((8, 8, 3), np.uint8))
    data = bytearray(jpeg.tobytes())
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = (60000).to_bytes(2, "big") * 2  # height, width
    (tmp_path / "big.jpg").write_bytes(bytes(data))
    ok, png = cv2.imencode(".png", np.zeros((8, 8), np.uint8))
    data = bytearray(png.tobytes())
    data[16:24] = (60000).to_bytes(4, "big") * 2  # IHDR width, height, and the chunk's checksum
    data[29:33] = zlib.crc32(bytes(data[12:29])).to_bytes(4, "big")
    (tmp_path / "big.png").write_bytes(bytes(data))
    for name in ("big.jpg", "big.png"):
        with pytest.raises(FrameError) as err:
            read_frame(tmp_path / name)
        assert err.value.reason == "frame_too_large" and "60000x60000" in err.value.detail
