"""Continuous per-frame targets."""

from __future__ import annotations

import numpy as np
import pytest

from apexspot.clips.labels import continuous_labels


@pytest.mark.parametrize("shape", ["linear", "exponential"])
def test_peak_at_apex_zero_at_edges_monotone(shape: str) -> None:
    y = continuous_labels(46, 59, 86, shape)
    assert len(y) == 41 and y[59 - 46] == 1.0 and y.max() == 1.0
    assert y[0] == 0 and y[-1] == 0
    assert np.all(np.diff(y[:14]) > 0) and np.all(np.diff(y[13:]) < 0)


def test_linear_values_and_exponential_is_sharper() -> None:
    lin = continuous_labels(0, 4, 8)
    assert np.allclose(lin, [0, 0.25, 0.5, 0.75, 1, 0.75, 0.5, 0.25, 0])
    exp = continuous_labels(0, 4, 8, "exponential")
    assert np.all(exp[1:4] < lin[1:4]) and exp[4] == 1


def test_apex_on_onset_or_offset() -> None:
    assert np.allclose(continuous_labels(69, 69, 73), [1, 0.75, 0.5, 0.25, 0])
    assert np.allclose(continuous_labels(177, 181, 181), [0, 0.25, 0.5, 0.75, 1])


def test_bad_windows_are_refused() -> None:
    with pytest.raises(ValueError, match="onset <= apex <= offset"):
        continuous_labels(10, 30, 20)
    with pytest.raises(ValueError, match="label shape"):
        continuous_labels(0, 1, 2, "cosine")
