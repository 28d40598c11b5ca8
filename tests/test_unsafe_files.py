"""Files that could run code or hide a pickle are refused in one line naming the file."""


from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


from apexspot.core import arrayfiles
from apexspot.core.errors import ApexspotError

ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------ unsafe files

def test_a_pickled_array_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "clip.npz"
    np.savez(path, flow=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ApexspotError, match=r"clip\.npz: not a readable clip file"):
        arrayfiles.load(path)


def test_a_model_safe_mode_refuses_is_one_clear_line(tmp_path: Path) -> None:
    import keras

    from apexspot.core.modelfiles import load_model

    inputs = keras.Input((3,))
    keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs)).save(tmp_path / "lambda.keras")
    (tmp_path / "junk.keras").write_bytes(b"not a zip")
    for name in ("lambda.keras", "junk.keras"):
        with pytest.raises(ApexspotError) as err:
            load_model(tmp_path / name)
        assert str(err.value).startswith(str(tmp_path / name)) and "\n" not in str(err.value)
