"""What the stages print: no TensorFlow start-up lines, whole progress lines in a log file."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import numpy as np

from apexspot.core import console


def test_progress_in_a_log_file_is_whole_lines(monkeypatch) -> None:
    log = io.StringIO()
    monkeypatch.setattr(sys, "stderr", log)
    for _ in console.progress(range(5), desc="flow", unit="clip"):
        pass
    text = log.getvalue()
    assert "\r" not in text and text.endswith("\n")
    lines = text.splitlines()
    assert all(line.startswith("flow:") for line in lines) and "5/5" in lines[-1]
    assert len(lines) <= 3  # start, end (and at most one line per 30 s), not one per update


def test_captured_stderr_drops_tensorflow_noise_and_keeps_the_rest(capfd) -> None:
    with console.captured_stderr():
        os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n")
        os.write(2, b"I0000 00:00:1.0 1 cudart_stub.cc:31] Could not find cuda drivers on your machine\n")
        os.write(2, b"a real error from C++\n")
    assert capfd.readouterr().err == "a real error from C++\n"


def run(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"} | env)


def test_importing_apexspot_first_silences_tensorflow_start_up() -> None:
    code = "import apexspot, keras, numpy as np; print(keras.ops.sum(np.ones(3)))"
    quiet = run(code)
    assert quiet.returncode == 0 and "3.0" in quiet.stdout, quiet.stderr
    assert quiet.stderr == "", quiet.stderr
    noisy = run(code, APEXSPOT_TF_NOISE="1", TF_CPP_MIN_LOG_LEVEL="0")
    assert noisy.returncode == 0 and noisy.stderr.strip() != ""  # there was something to silence


def test_the_attention_probe_is_called_as_the_model_is(recwarn) -> None:
    from defaults import frame_variant

    from apexspot.clips.model import attention_mask, build_model

    model = build_model(frame_variant(convs=3, norm="none", attention=True))
    mask = attention_mask(model, np.zeros((1, 75, 75, 3), np.float32))
    assert mask.ndim == 2
    assert not [w for w in recwarn if "structure" in str(w.message)]  # Keras' input-structure warning
