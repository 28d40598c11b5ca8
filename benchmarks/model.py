"""Parameter counts, layer sizes and training throughput of every variant in params.yaml.

    python benchmarks/model.py [--batches 5] [--batch-size 128]

Throughput is measured with random 75x75xC inputs (the data loader is not the bottleneck),
after one warm-up batch, on whatever device the Keras backend finds. The paper's full
protocol (5 folds x 200 epochs x ~22k training frames per fold) is extrapolated from it.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from apexspot.core import config  # noqa: E402
from apexspot.clips.model import build_model, output_sizes  # noqa: E402
from apexspot.core.training import device_info  # noqa: E402

PAPER = {"conv1": 37, "pool1": 20, "conv2": 9, "pool2": 4, "conv5": 4, "pool3": 2}
PROTOCOL_SAMPLES = 5 * 200 * 22_000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=128)
    args = ap.parse_args()
    params = config.load()
    channels = len(params.flow.channels)
    size = params.flow.size
    print(f"device: {device_info()}")
    print("\nlayer output sizes (lrn5_att) beside the paper's Table 3:")
    sizes = output_sizes(build_model(params.variants["lrn5_att"], (size, size, channels)))
    for name, paper in PAPER.items():
        print(f"  {name:<6} paper {paper:>3}   ours {sizes[name]}")
    print(f"\n{'variant':<10}{'params':>12}{'samples/s':>12}{'s/epoch@22k':>14}{'paper protocol':>16}")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(args.batch_size, size, size, channels)).astype("float32")
    y = rng.random((args.batch_size, 1)).astype("float32")
    for name, variant in params.variants.items():
        if variant.kind != "frame":  # the paper's networks; the clip spotter scores whole clips
            continue
        model = build_model(variant, (size, size, channels))
        model.compile(optimizer=keras.optimizers.Adam(1e-4), loss="mse")
        model.train_on_batch(x, y)
        start = time.perf_counter()
        for _ in range(args.batches):
            model.train_on_batch(x, y)
        rate = args.batches * args.batch_size / (time.perf_counter() - start)
        hours = PROTOCOL_SAMPLES / rate / 3600
        print(f"{name:<10}{model.count_params():>12,}{rate:>12.0f}{22_000 / rate:>14.0f}{hours:>14.1f} h")


if __name__ == "__main__":
    main()
