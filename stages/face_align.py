"""DVC stage face-align: manifest + frames -> data/aligned/<clip>.npz, data/face_align_report.json."""

from collections import Counter

from apexspot.clips.manifest import read_manifest
from apexspot.clips.records import split, stage_record, stage_report
from apexspot.core import config
from apexspot.core.errors import ApexspotError, run_stage
from apexspot.clips.align import align_to_file
from apexspot.core.face import detector_state
from apexspot.core.files import fresh_dir, write_json
from apexspot.core.workers import map_clips


def main() -> None:
    params = config.load()
    p = params.face
    clips = read_manifest("data/manifest.csv")
    out = fresh_dir("data/aligned")
    results = list(map_clips(align_to_file, [(clip, out, p) for clip in clips], detector_state,
                             (p.min_confidence,), params.workers, desc="face-align"))
    aligned, skipped = split(results)
    detectors = dict(Counter(r["detector"] for r in aligned))
    write_json("data/face_align_clips.json", stage_record("face-align", aligned, skipped))
    write_json("data/face_align_report.json",
               stage_report("face-align", aligned, skipped, detectors=detectors, params=p.model_dump()))
    print(f"face-align: {len(aligned)} clips aligned, {len(skipped)} skipped; detectors {detectors}")
    for s in skipped:
        print(f"  skipped {s.clip_id}: {s.reason}: {s.detail}")
    if not aligned:
        raise ApexspotError("no clip could be aligned (see data/face_align_report.json)")


if __name__ == "__main__":
    run_stage("face-align", main)
