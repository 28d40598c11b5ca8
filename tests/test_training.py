"""Training logs: dvclive's Keras callback, or our logger where TensorFlow is missing."""

from __future__ import annotations


def test_live_callback_falls_back_to_our_logger_without_dvclives_keras_module(monkeypatch) -> None:
    """On a machine with JAX or PyTorch but no TensorFlow, dvclive.keras cannot be imported;
    our callback logs the same names."""
    import sys

    import keras
    import numpy as np

    from apexspot.core.training import LiveLogger, live_callback

    class FakeLive:
        def __init__(self) -> None:
            self.logged, self.steps = [], 0

        def log_metric(self, name: str, value: float) -> None:
            self.logged.append((self.steps, name, round(value, 6)))

        def next_step(self) -> None:
            self.steps += 1

    monkeypatch.setitem(sys.modules, "dvclive.keras", None)  # import fails as without TensorFlow
    live = FakeLive()
    callback = live_callback(live)
    assert isinstance(callback, LiveLogger)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((4, 2), np.float32), np.zeros((4, 1), np.float32)
    model.fit(x, y, validation_data=(x, y), epochs=2, verbose=0, callbacks=[callback])
    assert [(s, n) for s, n, _ in live.logged] == [(0, "train/loss"), (0, "eval/loss"), (1, "train/loss"),
                                                   (1, "eval/loss")]
