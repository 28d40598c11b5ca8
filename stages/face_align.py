"""DVC stage face-align: manifest + frames -> data/aligned/<clip>.npz, data/face_align_report.json."""

import sys
from collections import Counter

from apexspot.atomic import atomic_dir, write_json
from apexspot.datasets.manifest import read_manifest
from apexspot.errors import ApexspotError
from apexspot.face import AlignParams, align_to_file, detector_state
from apexspot.params import load_params, section
from apexspot.workers import map_clips, split


def main() -> None:
    params = load_params()
    p = AlignParams.from_params(section(params, "face"))
    clips = read_manifest("data/manifest.csv")
    with atomic_dir("data/aligned") as out:
        jobs = [(clip, out, p) for clip in clips]
        results = list(map_clips(align_to_file, jobs, detector_state, (p.min_confidence,),
                                 params.get("workers", 0), desc="face-align"))
    aligned, skipped, by_reason = split(results)
    report = {
        "aligned": len(aligned),
        "skipped": skipped,
        "skipped_by_reason": by_reason,
        "detectors": dict(Counter(r["detector"] for r in aligned)),
        "params": vars(p),
    }
    write_json("data/face_align_report.json", report)
    print(f"face-align: {len(aligned)} clips aligned, {len(skipped)} skipped; detectors {report['detectors']}")
    for r in skipped:
        print(f"  skipped {r['clip_id']}: {r['reason']}: {r['detail']}")
    if not aligned:
        raise ApexspotError("no clip could be aligned (see data/face_align_report.json)")


if __name__ == "__main__":
    try:
        main()
    except (ApexspotError, ValueError) as err:
        sys.exit(f"face-align: error: {err}")
