"""DVC stage flow: data/aligned -> data/flow/<clip>.npz, data/flow_report.json, data/flow_preview/."""

from pathlib import Path

from apexspot.clips.manifest import read_manifest
from apexspot.clips.records import split, stage_record, stage_report, surviving
from apexspot.core import config
from apexspot.core.errors import ApexspotError, run_stage
from apexspot.core.files import fresh_dir, write_json
from apexspot.core.flow import flow_state, flow_to_file, preview_clips
from apexspot.core.workers import map_clips


def main() -> None:
    params = config.load()
    p = params.flow
    clips, upstream = surviving(read_manifest("data/manifest.csv"), "data/face_align_clips.json")
    previews = preview_clips(clips, p.previews)
    out, preview = fresh_dir("data/flow"), fresh_dir("data/flow_preview")
    jobs = [(c, Path("data/aligned"), out, preview if c.clip_id in previews else None, p) for c in clips]
    results = list(map_clips(flow_to_file, jobs, flow_state, (p.method,), params.workers, desc=f"flow ({p.method})"))
    done, skipped = split(results)
    frames = sum(r["frames"] for r in done)
    write_json("data/flow_clips.json", stage_record("flow", done, skipped, upstream))
    write_json("data/flow_report.json", stage_report(
        "flow", done, skipped, frames=frames, params=p.model_dump(), previews=sorted(previews),
        normalisation=f"flow = displacement in pixels of the {p.size}x{p.size} grid x {p.scale}"))
    print(f"flow: {len(done)} clips, {frames} frames ({p.method}); {len(skipped)} skipped")
    if not done:
        raise ApexspotError("no clip has flow (see data/flow_report.json)")


if __name__ == "__main__":
    run_stage("flow", main)
