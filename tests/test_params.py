"""params.yaml: the one place every setting lives, checked by one schema; every mistake is
one line naming the key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from apexspot.core import config
from apexspot.core.errors import ParamsError

ROOT = Path(__file__).resolve().parents[1]


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
    ({"train__epoch": 1}, ["train.epoch", "unknown key", "'train.frame.epochs' or 'train.clip.epochs'"]),
    ({"face__size": "abc"}, ["face.size", "'abc'", "integer"]),
    ({"flow__size": 0}, ["flow.size", "0", "greater than or equal to 8"]),
    ({"folds__k": 1}, ["folds.k", "greater than or equal to 2"]),
    ({"flow__method": "lucas"}, ["flow.method", "'lucas'", "farneback"]),
    ({"variant": "lrn5_at"}, ["variant", "lrn5_at", "did you mean 'lrn5_att'"]),
    ({"variants__bn3__convs": 6}, ["variants.bn3.convs", "6"]),
    ({"train__epochs": 1}, ["train.epochs", "unknown key", "'train.frame.epochs' or 'train.clip.epochs'"]),
    ({"variants__clip__convs": 3}, ["variants.clip.convs", "unknown key", "kind frame"]),
    ({"variants__bn3__width": 8}, ["variants.bn3.width", "unknown key", "kind clip"]),
    ({"variants__bn3__kind": "frames"}, ["variants.bn3.kind", "'frames'", "frame, clip"]),
    ({"variants__bn3__kind": DELETE}, ["variants.bn3.kind", "missing"]),
    ({"variants": DELETE}, ["variants: missing"]),
    ({"spot": DELETE}, ["spot: missing"]),
    ({"train__clip__epochs": DELETE}, ["train.clip.epochs: missing"]),
    ({"variants__clip__width": DELETE}, ["variants.clip.width: missing"]),
    ({"data__synthetic__seed": DELETE}, ["data.synthetic.seed: missing"]),
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
    p = config.load(params_with(tmp_path, train__clip__learning_rate="1e-4", flow__scale="4.0", flow__size="75"))
    assert p.train.clip.learning_rate == 1e-4 and p.flow.scale == 4.0 and p.flow.size == 75


def flatten(values: dict, prefix: str = "") -> set[str]:
    keys = set()
    for key, value in values.items():
        if isinstance(value, dict) and not (prefix == "" and key == "variants"):
            keys |= flatten(value, f"{prefix}{key}.")
        elif prefix == "" and key == "variants":
            keys |= {f"variants.<{v['kind']}>.{field}" for v in value.values() for field in v}
        else:
            keys.add(prefix + key)
    return keys


def test_params_yaml_and_the_schema_have_the_same_keys() -> None:
    """Both ways: every key the schema knows is written in params.yaml (the one place its value
    lives, where DVC sees it), and params.yaml holds nothing the schema does not check."""
    written = flatten(yaml.safe_load((ROOT / "params.yaml").read_text()))
    known = config.schema_keys()
    assert written - known == set() and known - written == set()
    assert config.load(ROOT / "params.yaml").variant == "clip"


def test_every_variant_is_complete_for_its_kind() -> None:
    values = yaml.safe_load((ROOT / "params.yaml").read_text())["variants"]
    for name, variant in values.items():
        assert set(variant) == set(config.VARIANT_KINDS[variant["kind"]].model_fields), name


def test_the_schema_holds_no_default() -> None:
    """A default in code would be a second home for a value, invisible to DVC."""
    def walk(model):
        for name, field in model.model_fields.items():
            assert field.is_required(), f"{model.__name__}.{name} has a default"
            if isinstance(field.annotation, type) and issubclass(field.annotation, config.BaseModel):
                walk(field.annotation)
    walk(config.Params)
    for kind in config.VARIANT_KINDS.values():
        walk(kind)


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


@pytest.mark.parametrize("stage,edit,words", [
    *[(stage, {"train__epoch": 1}, "train.epoch: unknown key")
      for stage in ("ingest", "face_align", "flow", "fold_split", "train", "evaluate")],
    ("ingest", {"variants": DELETE}, "variants: missing"), ("train", {"variants": DELETE}, "variants: missing"),
])
def test_every_stage_stops_on_bad_params_before_any_work(tmp_path: Path, stage: str, edit: dict, words: str) -> None:
    params_with(tmp_path, **edit)
    done = subprocess.run([sys.executable, str(ROOT / "stages" / f"{stage}.py")], cwd=tmp_path,
                          capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert words in done.stderr.strip().splitlines()[-1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params.yaml"]  # nothing written
