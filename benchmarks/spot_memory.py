"""Peak memory and wall time of `apexspot spot` on a long folder of 640x480 frames.

Writes N JPEG frames of a synthetic face (the built-in dataset's renderer, one subject),
two fold models of a variant of params.yaml (untrained: the figure is about memory, not
accuracy; default the clip spotter), and runs `apexspot spot FOLDER --json` in a child process; its peak resident
memory comes from the kernel (getrusage of the child). `--quick`: 150 frames, a smoke test.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]


def write_frames(folder: Path, n: int) -> None:
    from apexspot.clips import synthetic

    subjects, clips = synthetic.sample_dataset(1, 1, seed=0)
    still = synthetic.render_clip(subjects[0], clips[0])[0]
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    for i in range(n):
        noisy = np.clip(still.astype(np.int16) + rng.integers(-3, 4, still.shape), 0, 255).astype(np.uint8)
        cv2.imwrite(str(folder / f"img{i + 1:05d}.jpg"), noisy, [cv2.IMWRITE_JPEG_QUALITY, 90])


def write_models(folder: Path, variant: str) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from apexspot.core import config
    from apexspot.clips.trained import TrainedFold
    from apexspot.clips.spotters import spotter

    params = config.load(ROOT / "params.yaml")
    folder.mkdir(parents=True)
    for k in (0, 1):
        s = spotter(params.variants[variant], params.flow.channels)
        TrainedFold(s.build((params.flow.size, params.flow.size, len(params.flow.channels))), s).save(
            folder / f"fold_{k}.keras")
    (folder / "params.yaml").write_text(yaml.safe_dump(
        {"face": params.face.model_dump(), "flow": params.flow.model_dump(), "spot": params.spot.model_dump(),
         "recordings": params.recordings.model_dump()}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=5000)
    ap.add_argument("--variant", default="clip", help="a variant of params.yaml (default: clip)")
    ap.add_argument("--quick", action="store_true", help="150 frames: a smoke test, not a measurement")
    args = ap.parse_args()
    n = 150 if args.quick else args.frames
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        write_frames(Path(tmp) / "frames", n)
        write_models(Path(tmp) / "models", args.variant)
        print(f"wrote {n} frames of 640x480 and 2 fold models in {time.perf_counter() - start:.0f} s", flush=True)
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "apexspot.cli", "spot", str(Path(tmp) / "frames"),
                               "--models", str(Path(tmp) / "models"), "--onset", "1", "--json"],
                              capture_output=True, text=True,
                              cwd=tmp, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            sys.exit(f"spot failed:\n{done.stderr[-2000:]}")
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # kB on Linux
        print(f"spot on {n} frames ({args.variant}): peak memory {peak:.0f} MB, {seconds:.0f} s "
              f"({n / seconds:.0f} frames/s)")


if __name__ == "__main__":
    main()
