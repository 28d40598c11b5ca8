"""DVC stage ingest: (synthetic data), sheets + frames -> data/manifest.csv, data/ingest_report.json."""

from apexspot.clips import sources, synthetic
from apexspot.clips.manifest import to_frame
from apexspot.core import config
from apexspot.core.sources import outside_raw, selected
from apexspot.core.errors import ApexspotError, run_stage
from apexspot.core.files import fresh_dir, write_csv, write_json


def main() -> None:
    params = config.load()
    data = params.data
    names = selected(data.sources)
    outside = outside_raw(data, "data")
    if outside:
        raise ApexspotError("; ".join(outside))
    root = fresh_dir(synthetic.ROOT)  # this stage's own output (dvc.yaml), never a folder a setting names
    s = data.synthetic
    if "synthetic" in names:
        synthetic.generate(root, s.subjects, s.clips_per_subject, s.seed, s.jpeg_quality, workers=params.workers)
    # Always one file, so the output is never an empty folder (DVC warns about those).
    write_json(root / "dataset.json", {"generated": "synthetic" in names, **(s.model_dump() if "synthetic" in names else {
        "note": "synthetic is not in data.sources"})})
    verdicts = sources.collect(data)
    print(sources.summary(verdicts))
    write_json("data/ingest_report.json", sources.report(verdicts, names, data.on_defect))
    if not verdicts.kept:
        raise ApexspotError("no usable clips: every clip was skipped (see data/ingest_report.json)")
    write_csv("data/manifest.csv", to_frame(verdicts.kept))
    print(f"wrote data/manifest.csv ({len(verdicts.kept)} clips)")


if __name__ == "__main__":
    run_stage("ingest", main)
