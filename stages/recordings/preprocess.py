"""DVC stage recordings/preprocess: frames -> data/recordings/flow/<recording>.npz (face followed, flow, unusable spans)."""

import time

from apexspot.core import config
from apexspot.core.errors import ApexspotError, run_stage
from apexspot.core.files import fresh_dir, write_json
from apexspot.core.workers import map_clips
from apexspot.recordings.preprocess import describe_span, preprocess_to_file, worker_setup
from apexspot.recordings.recording import read_recordings


def main() -> None:
    params = config.load()
    p = params.recordings
    recordings = read_recordings("data/recordings/recordings.csv")
    out = fresh_dir("data/recordings/flow")
    start = time.perf_counter()
    jobs = [(r, out, params.face, p.track, p.flow) for r in recordings]
    results = list(map_clips(preprocess_to_file, jobs, worker_setup, (params.face.min_confidence,),
                             params.workers, desc="recordings/preprocess"))
    elapsed = time.perf_counter() - start
    done = [r for r in results if "skipped" not in r]
    skipped = [r for r in results if "skipped" in r]
    frames = sum(r["frames"] for r in done)
    write_json("data/recordings/preprocess_report.json", {
        "recordings": len(done), "frames": frames, "skipped": skipped,
        "unusable_frames": sum(s["frames"] for r in done for s in r["unusable"]),
        "per_recording": {r["recording_id"]: {k: v for k, v in r.items() if k not in ("recording_id", "seconds")}
                          for r in done}})
    print(f"recordings/preprocess: {len(done)} recordings, {frames} frames in {elapsed:.0f} s "
          f"({frames / max(elapsed, 1e-9):.0f} frames/s)")
    for r in done:
        for s in r["unusable"]:
            print(f"  {r['recording_id']}: frames {s['first']}..{s['last']} ({s['start_s']:.2f}-{s['end_s']:.2f} s) "
                  f"unusable: {describe_span(s)}")
    for r in skipped:
        print(f"  skipped {r['recording_id']}: {r['skipped']}: {r['detail']}")
    if not done:
        raise ApexspotError("no recording could be preprocessed (see data/recordings/preprocess_report.json)")


if __name__ == "__main__":
    run_stage("recordings/preprocess", main)
