"""The network of Tables 3-4: layer sizes per variant, attention in the graph, LRN == TensorFlow's."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from defaults import frame_variant

from apexspot.clips.model import LocalResponseNormalization, build_model, output_sizes
from apexspot.core.modelfiles import load_model
from apexspot.core.errors import ParamsError

TABLE3 = {"conv1": (37, 37, 96), "pool1": (19, 19, 96), "conv2": (9, 9, 256), "pool2": (4, 4, 256),
          "pool3": (2, 2, 512), "fc1": (128,), "fc2": (128,), "score": (1,)}


@pytest.mark.parametrize("convs", [3, 4, 5])
@pytest.mark.parametrize("norm", ["lrn", "bn", "none"])
def test_layer_sizes_match_table_3(convs: int, norm: str) -> None:
    model = build_model(frame_variant(convs=convs, norm=norm, attention=False))
    sizes = output_sizes(model)
    assert {k: sizes[k] for k in TABLE3} == TABLE3
    deep = [k for k in sizes if k.startswith("conv") and k not in ("conv1", "conv2")]
    assert deep == [f"conv{i}" for i in range(3, convs + 1)]
    assert all(sizes[k] == (4, 4, 512) for k in deep)
    kinds = {"lrn": LocalResponseNormalization, "bn": keras.layers.BatchNormalization,
             "none": keras.layers.Identity}
    assert isinstance(model.get_layer("norm1"), kinds[norm]) and isinstance(model.get_layer("norm2"), kinds[norm])


def test_attention_changes_the_graph_as_table_4() -> None:
    plain = build_model(frame_variant(attention=False))
    attended = build_model(frame_variant(attention=True))
    sizes = output_sizes(attended)
    assert sizes["attention_conv1"] == (4, 4, 256) and sizes["attention_pool"] == (2, 2, 256)
    assert sizes["attention_conv2"] == (2, 2, 512) and sizes["attention_up"] == (4, 4, 512)
    assert sizes["attention_mask"] == (4, 4, 256) and sizes["attention_out"] == (4, 4, 256)
    assert "attention_mask" not in output_sizes(plain)
    assert attended.count_params() > plain.count_params()
    # X * (1 + M(X)): with the mask forced to 0 the unit is the identity, with 1 it doubles X.
    mask_layer = attended.get_layer("attention_mask")
    x = np.random.default_rng(0).normal(size=(2, 4, 4, 256)).astype("float32")
    for bias, factor in ((-1e4, 1.0), (1e4, 2.0)):
        kernel, _ = mask_layer.get_weights()
        mask_layer.set_weights([np.zeros_like(kernel), np.full(256, bias, "float32")])
        unit = keras.Model(attended.get_layer("attention_conv1").input, attended.get_layer("attention_out").output)
        assert np.allclose(np.asarray(unit(x)), factor * x, atol=1e-5)


def test_lrn_equals_tensorflow() -> None:
    tf = pytest.importorskip("tensorflow")
    if keras.backend.backend() != "tensorflow":
        pytest.skip("compares against tf.nn on the TensorFlow backend")
    x = np.random.default_rng(1).normal(scale=20, size=(3, 9, 9, 96)).astype("float32")
    ours = np.asarray(LocalResponseNormalization(depth_radius=2, bias=2.0, alpha=1e-4, beta=0.75)(x))
    theirs = tf.nn.local_response_normalization(x, depth_radius=2, bias=2.0, alpha=1e-4, beta=0.75).numpy()
    assert np.allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    assert not np.allclose(ours, x)  # it did normalise


def test_saved_model_loads_in_safe_mode(tmp_path: Path) -> None:
    model = build_model(frame_variant())
    x = np.random.default_rng(2).normal(size=(4, 75, 75, 3)).astype("float32")
    model.save(tmp_path / "m.keras")
    again = load_model(str(tmp_path / "m.keras"))
    assert np.allclose(np.asarray(model(x)), np.asarray(again(x)), atol=1e-6)


def test_bad_variant_is_refused() -> None:
    with pytest.raises(ParamsError, match="convs: 6 is not allowed"):
        frame_variant(convs=6)
    with pytest.raises(ParamsError, match="norm: 'group' is not allowed"):
        frame_variant(norm="group")


def test_mixed_precision_computes_in_float16_and_scores_in_float32() -> None:
    from apexspot.core.training import set_precision

    try:
        assert set_precision(True) == "mixed_float16"
        model = build_model(frame_variant(convs=3, norm="bn", attention=True))
        assert model.get_layer("conv1").compute_dtype == "float16"
        assert model.get_layer("conv1").variable_dtype == "float32"
        out = model(np.zeros((2, 75, 75, 3), "float32"))
        assert keras.backend.standardize_dtype(out.dtype) == "float32"
    finally:
        set_precision(False)
    assert build_model(frame_variant()).get_layer("conv1").compute_dtype == "float32"
