"""Throughput of face-align and flow against the JPEG decode floor, and their peak memory.

Run after `dvc repro ingest` (it reads data/manifest.csv and the frames it lists):

    python benchmarks/preprocess.py [--workers 2] [--methods dis farneback tvl1]

Each stage runs as its real script in a scratch folder (so data/ is left alone), timed
end to end, with the resident memory of its whole process tree sampled every 50 ms.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import psutil
import yaml

from apexspot.clips.manifest import read_manifest
from apexspot.core import config
from apexspot.core.flow import clip_flow

ROOT = Path(__file__).resolve().parents[1]


def decode(paths: list[str]) -> int:
    for p in paths:
        cv2.imread(p, cv2.IMREAD_GRAYSCALE)
    return len(paths)


def decode_floor(paths: list[str], workers: int) -> float:
    chunks = [paths[i::workers] for i in range(workers)]
    start = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(decode, chunks))
    return time.perf_counter() - start


def run_stage(script: str, scratch: Path) -> tuple[float, float]:
    """(seconds, peak MiB of the process tree) of one stage script run in `scratch`."""
    peak = 0.0
    proc = subprocess.Popen([sys.executable, str(ROOT / "stages" / script)], cwd=scratch,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    root = psutil.Process(proc.pid)

    def sample() -> None:
        nonlocal peak
        while proc.poll() is None:
            try:
                tree = [root] + root.children(recursive=True)
                peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()) / 2**20)
            except psutil.Error:
                pass
            time.sleep(0.05)

    start = time.perf_counter()
    watcher = threading.Thread(target=sample)
    watcher.start()
    _, err = proc.communicate()
    seconds = time.perf_counter() - start
    watcher.join()
    if proc.returncode:
        raise SystemExit(f"{script} failed:\n{err[-2000:]}")
    return seconds, peak


def fidelity(method: str) -> tuple[float, float]:
    """(share of a 1.0-px local motion recovered, 95th percentile of flow elsewhere in the face).

    Real faces (the synthetic subjects), aligned as the pipeline aligns them; a 1-px Gaussian
    patch of motion (sd 4 px) at each mouth corner, above an eye and below the other;
    sensor noise sd 1. Averaged over 4 faces x 4 places.
    """
    from apexspot.clips import synthetic
    from apexspot.core.face import apply_transform, similarity_transform
    from apexspot.core.flow import face_mask

    peaks, rest = [], []
    yy, xx = np.mgrid[0:128, 0:128].astype(np.float32)
    for index in (1, 2, 4, 5):
        canvas, marks = synthetic.subject_canvas(synthetic.sample_subject(index, np.random.default_rng(index)))
        grey = cv2.cvtColor(canvas.astype(np.uint8), cv2.COLOR_BGR2GRAY).astype(np.float32)
        points = np.array([marks[k] for k in ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")])
        matrix = similarity_transform(points, config.load(ROOT / "params.yaml").face)
        aligned_marks = apply_transform(matrix, points)
        aligned = cv2.warpAffine(grey, matrix, (128, 128))
        rng = np.random.default_rng(index)
        for where in (aligned_marks[4], aligned_marks[3], aligned_marks[0] + [0, -10], aligned_marks[1] + [0, 5]):
            bump = np.exp(-0.5 * ((xx - where[0]) ** 2 + (yy - where[1]) ** 2) / 16).astype(np.float32)
            moved = cv2.remap(aligned, xx - 0.6 * bump, yy + 0.8 * bump, cv2.INTER_CUBIC)
            frames = np.stack([np.clip(f + rng.normal(0, 1, f.shape), 0, 255).astype(np.uint8) for f in (aligned, moved)])
            mag = clip_flow(frames, aligned_marks, config.load(ROOT / "params.yaml").flow.replace(method=method, size=128, scale=1.0)).flow[1][..., 2]
            cx, cy = np.round(where).astype(int)
            peaks.append(mag[cy - 3:cy + 4, cx - 3:cx + 4].max())
            far = (np.hypot(xx - where[0], yy - where[1]) > 15) & face_mask(128, aligned_marks)
            rest.append(np.percentile(mag[far], 95))
    return float(np.mean(peaks)), float(np.mean(rest))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--methods", nargs="+", default=["dis", "farneback", "tvl1"])
    args = ap.parse_args()
    os.chdir(ROOT)
    clips = read_manifest("data/manifest.csv")
    paths = [str(c.frame_path(f)) for c in clips for f in range(c.onset, c.offset + 1)]
    n = len(paths)
    print(f"{len(clips)} clips, {n} frames of {cv2.imread(paths[0]).shape[1::-1]} JPEG, {args.workers} workers")

    floor = min(decode_floor(paths, args.workers) for _ in range(3))  # warm page cache, best of 3
    print(f"decode only (full-size grey):  {floor:7.1f} s  {n / floor:8.0f} frames/s")

    params = yaml.safe_load(Path("params.yaml").read_text())
    params["workers"] = args.workers
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        (scratch / "data").mkdir()
        shutil.copy("data/manifest.csv", scratch / "data")
        for c in {Path(c.frames_dir).parts[0] for c in clips}:
            os.symlink(ROOT / c, scratch / c) if c != "data" else None
        if (ROOT / "data/synthetic").exists():
            os.symlink(ROOT / "data/synthetic", scratch / "data/synthetic")
        (scratch / "params.yaml").write_text(yaml.safe_dump(params))
        for views in (1, params["face"].get("views", 4)):
            params["face"]["views"] = views
            (scratch / "params.yaml").write_text(yaml.safe_dump(params))
            align_s, align_mem = run_stage("face_align.py", scratch)
            print(f"face-align views={views} (stage):   {align_s:7.1f} s  {n / align_s:8.0f} frames/s  "
                  f"peak {align_mem:6.0f} MiB")
        results = {}
        for method in args.methods:
            params["flow"]["method"] = method
            (scratch / "params.yaml").write_text(yaml.safe_dump(params))
            results[method] = run_stage("flow.py", scratch)
            s, mem = results[method]
            print(f"flow {method:<10} (stage):      {s:7.1f} s  {n / s:8.0f} frames/s  peak {mem:6.0f} MiB")
    print(f"\nface-align (views={views}) + flow vs the decode floor:")
    for method, (s, _) in results.items():
        print(f"  {method:<10} {(align_s + s) / floor:5.2f}x")
    print("\nhow well each method keeps a 1.0-px local motion (aligned 128 px faces, noise sd 1):")
    for method in args.methods:
        peak, rest = fidelity(method)
        print(f"  {method:<10} recovered {peak:4.2f} of 1 px; elsewhere (95th pct) {rest:5.3f} px; ratio {peak / rest:5.1f}")
    per_frame = {m: s / n for m, (s, _) in results.items()}
    print("\nextrapolated to CASME II (255 clips, ~17,000 frames) at these rates:")
    print(f"  decode {17000 * floor / n:5.0f} s, face-align {17000 * align_s / n:5.0f} s, "
          + ", ".join(f"flow {m} {17000 * t:5.0f} s" for m, t in per_frame.items()))


if __name__ == "__main__":
    main()
