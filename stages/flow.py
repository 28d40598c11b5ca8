"""DVC stage flow: data/aligned -> data/flow/<clip>.npz, data/flow_report.json, data/flow_preview/."""

import sys
from pathlib import Path

from apexspot import clipfiles
from apexspot.atomic import atomic_dir, write_json
from apexspot.datasets.manifest import read_manifest
from apexspot.errors import ApexspotError
from apexspot.flow import FlowParams, flow_state, flow_to_file
from apexspot.params import load_params, section
from apexspot.workers import map_clips, split


def main() -> None:
    params = load_params()
    settings = section(params, "flow")
    p = FlowParams.from_params(settings)
    clips = [c for c in read_manifest("data/manifest.csv")
             if clipfiles.clip_file("data/aligned", c.clip_id).exists()]
    previews = {c.clip_id for c in clips[: settings.get("previews", 3)]}
    with atomic_dir("data/flow") as out, atomic_dir("data/flow_preview") as preview:
        jobs = [(c, Path("data/aligned"), out, preview if c.clip_id in previews else None, p) for c in clips]
        results = list(map_clips(flow_to_file, jobs, flow_state, (p.method,), params.get("workers", 0),
                                 desc=f"flow ({p.method})"))
    done, skipped, by_reason = split(results)
    write_json("data/flow_report.json", {
        "clips": len(done), "frames": sum(r["frames"] for r in done),
        "skipped": skipped, "skipped_by_reason": by_reason,
        "params": vars(p), "previews": sorted(previews),
        "normalisation": f"flow = displacement in pixels of the {p.size}x{p.size} grid x {p.scale}",
    })
    print(f"flow: {len(done)} clips, {sum(r['frames'] for r in done)} frames ({p.method}); {len(skipped)} skipped")
    if not done:
        raise ApexspotError("no clip has flow (see data/flow_report.json)")


if __name__ == "__main__":
    try:
        main()
    except (ApexspotError, ValueError) as err:
        sys.exit(f"flow: error: {err}")
