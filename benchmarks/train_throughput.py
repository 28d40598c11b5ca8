"""Training throughput of the paper's network (lrn5_att) with each frame loader, mixed
precision on and off, XLA/JIT on and off, and the wall time of the paper's protocol.

    python benchmarks/train_throughput.py [--quick] [--clips 20] [--frames 100] [--batches 10]
    KERAS_BACKEND=jax python benchmarks/train_throughput.py     # on a GPU without TensorFlow

Random flow clips are written to a temporary folder in the pipeline's format, so the
streaming loader reads files as it does in `dvc repro`. Each setting trains one warm-up
epoch (compilation), then the measured one; samples/s counts training frames only.
`--quick` is a smoke test that runs in seconds on a CPU (its figures mean nothing).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from apexspot.core import arrayfiles  # noqa: E402
from apexspot.core import config  # noqa: E402
from apexspot.clips.manifest import Clip  # noqa: E402
from apexspot.clips.model import build_model  # noqa: E402
from apexspot.clips.spotters.frame_batches import FlowFrames, FlowFramesInMemory  # noqa: E402
from apexspot.core.training import device_info, set_precision  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

PROTOCOL_SAMPLES = 5 * 200 * 22_000  # 5 folds x 200 epochs x ~22k training frames per fold


def write_clips(root: Path, clips: int, frames: int, size: int) -> list[Clip]:
    """Random float16 flow clips as data/flow would hold them."""
    rng = np.random.default_rng(0)
    out = []
    for i in range(clips):
        c = Clip(f"bench/s{i}/c{i}", f"b-{i}", "bench", f"c{i}", 0, frames // 2, frames - 1, frames,
                 "", "", "", "", "", "bench", i + 2)
        arrayfiles.save(arrayfiles.clip_file(root, c.clip_id),
                       flow=rng.normal(size=(frames, size, size, 3)).astype(np.float16))
        out.append(c)
    return out


def rate(loader_kind: type, clips: list[Clip], root: Path, p: config.FrameTraining, variant: config.FrameVariant,
         size: int, batches: int, mixed: bool, jit: bool) -> float:
    """Training frames per second over one epoch of `batches` batches, after a warm-up epoch."""
    set_precision(mixed)
    model = build_model(variant, (size, size, 3))
    model.compile(optimizer=keras.optimizers.Adam(1e-4), loss="mse", jit_compile=jit)
    data = loader_kind(clips, root, p.batch_size, p.frame_stride, shuffle=True, seed=0)
    steps = min(batches, len(data))
    model.fit(data, epochs=1, steps_per_epoch=steps, verbose=0)
    start = time.perf_counter()
    model.fit(data, epochs=1, steps_per_epoch=steps, verbose=0)
    seconds = time.perf_counter() - start
    set_precision(False)
    return steps * p.batch_size / seconds


def first_line(error: Exception) -> str:
    """The line of a (long, multi-line) backend error that says what went wrong."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    useful = [line for line in lines if "precision" in line or "Error" in line] or lines or [""]
    return useful[0][:160]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a few tiny batches: a smoke test, not a measurement")
    ap.add_argument("--clips", type=int, default=20)
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--batches", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=128)
    args = ap.parse_args()
    if args.quick:
        args.clips, args.frames, args.batches, args.batch_size = 4, 16, 2, 8
    size = 75
    params = config.load(ROOT / "params.yaml")
    p, variant = params.train.frame.replace(batch_size=args.batch_size, frame_stride=1), params.variants["lrn5_att"]
    print(f"device: {device_info()}")
    print(f"{args.clips} clips x {args.frames} frames of {size}x{size}x3 flow, batch {args.batch_size}, "
          f"{args.batches} measured batches per setting")
    print(f"\n{'loader':<8}{'mixed':>7}{'jit':>6}{'samples/s':>12}{'paper protocol':>17}")
    with tempfile.TemporaryDirectory() as tmp:
        clips = write_clips(Path(tmp), args.clips, args.frames, size)
        for name, kind in (("stream", FlowFrames), ("memory", FlowFramesInMemory)):
            for mixed in (False, True):
                for jit in (False, True):
                    row = f"{name:<8}{'on' if mixed else 'off':>7}{'on' if jit else 'off':>6}"
                    try:
                        r = rate(kind, clips, Path(tmp), p, variant, size, args.batches, mixed, jit)
                    except Exception as e:  # a combination this backend cannot compile: say so, go on
                        set_precision(False)
                        print(f"{row}      failed: {type(e).__name__}: {first_line(e)}", flush=True)
                        continue
                    print(f"{row}{r:>12.0f}{PROTOCOL_SAMPLES / r / 3600:>15.1f} h", flush=True)


if __name__ == "__main__":
    main()
