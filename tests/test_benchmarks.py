"""Benchmarks stay runnable: each one's quick mode as a smoke test (figures not checked)."""

from __future__ import annotations

import subprocess
import sys

from project import ENV, ROOT


def test_train_throughput_quick_prints_every_setting() -> None:
    done = subprocess.run([sys.executable, "benchmarks/train_throughput.py", "--quick"], cwd=ROOT, env=ENV,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [line.split() for line in done.stdout.splitlines() if line.startswith(("stream", "memory"))]
    assert [(r[0], r[1], r[2]) for r in rows] == [(loader, mixed, jit) for loader in ("stream", "memory")
                                                  for mixed in ("off", "on") for jit in ("off", "on")]
    # full precision always trains and gives a rate and the protocol's estimated time
    for r in rows:
        if r[1] == "off":
            assert float(r[3]) > 0 and r[-1] == "h"


def test_spot_memory_quick_reports_peak_memory() -> None:
    done = subprocess.run([sys.executable, "benchmarks/spot_memory.py", "--quick"], cwd=ROOT, env=ENV,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    line = done.stdout.strip().splitlines()[-1]
    assert line.startswith("spot on 150 frames (clip): peak memory ") and " MB, " in line, done.stdout


def test_preprocess_recordings_prints_frames_per_second() -> None:
    done = subprocess.run([sys.executable, "benchmarks/preprocess_recordings.py", "--recordings", "2", "--seconds", "3"],
                          cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "2 recordings, 180 frames of 640x480 at a declared 200 fps" in done.stdout
    rate = next(line for line in done.stdout.splitlines() if line.startswith("decode + face + flow"))
    assert float(rate.split(" frames/s")[0].rsplit(" ", 1)[-1]) > 0
