"""Frames per second of the long-recording preprocessing (decode + face + flow), end to end.

    python benchmarks/preprocess_recordings.py [--recordings 4] [--seconds 20] [--fps 200] [--workers 0]

Renders synthetic 640x480 recordings (JPEG, as the ingest stage writes them) into a scratch
folder, then runs the preprocess stage's own per-recording job (`preprocess_to_file`: strict
JPEG decode, MTCNN, the face tracker, flow at every reference, the file written) over them
with the stage's worker pool, and prints frames per second of wall time, rendering excluded.
`--fps` is the frame rate the recordings are declared at: it sets how often MTCNN looks
(every `check_every_s`) and the flow references in frames, so 200 measures a SAMM Long
Videos-like load (the rendered motion is the same either way).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from apexspot.core import config
from apexspot.core.workers import cores, map_clips
from apexspot.recordings import casme_sq, synthetic as synthetic_recordings
from apexspot.recordings.preprocess import preprocess_to_file, worker_setup


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recordings", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--fps", type=float, default=200)
    ap.add_argument("--workers", type=int, default=0, help="0 = one per core")
    args = ap.parse_args()
    params = config.load()
    p = params.recordings
    scratch = Path(tempfile.mkdtemp(prefix="apexspot-bench-"))
    try:
        start = time.perf_counter()
        synthetic_recordings.generate(scratch / "data", args.recordings, args.seconds, 0, p.synthetic.jpeg_quality,
                                      workers=args.workers, progress=False)
        rendered = time.perf_counter() - start
        found = casme_sq.read(scratch / "data" / synthetic_recordings.SHEET,
                              scratch / "data" / synthetic_recordings.FRAMES_DIR, dataset="synthetic")
        recordings = [replace(r, fps=args.fps) for r in found.recordings]
        frames = sum(r.n_frames for r in recordings)
        jobs = [(r, scratch / "flow", params.face, p.track, p.flow) for r in recordings]
        start = time.perf_counter()
        results = list(map_clips(preprocess_to_file, jobs, worker_setup, (params.face.min_confidence,),
                                 args.workers, desc="preprocess", show_progress=False))
        elapsed = time.perf_counter() - start
        bad = [r for r in results if "skipped" in r]
        if bad:
            raise SystemExit(f"recordings failed: {bad}")
        workers = min(args.workers or cores(), len(jobs))
        print(f"{len(recordings)} recordings, {frames} frames of 640x480 at a declared {args.fps:g} fps "
              f"(rendered in {rendered:.0f} s)")
        print(f"decode + face + flow ({p.flow.method}, references {p.flow.references_s} s): {elapsed:.1f} s, "
              f"{frames / elapsed:.0f} frames/s with {workers} worker(s) on {cores()} core(s)")
        name, total = ("SAMM Long Videos", 482_797) if args.fps >= 100 else ("CAS(ME)^2", 254_094)
        print(f"{name} ({total:,} frames at {200 if args.fps >= 100 else 30} fps) at this speed: "
              f"{total / (frames / elapsed) / 60:.0f} min")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
