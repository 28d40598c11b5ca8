"""DVC stage recordings/ingest: (synthetic recordings), workbooks + frames -> data/recordings/{recordings,intervals}.csv."""

from pathlib import Path

from apexspot.core import config
from apexspot.core.errors import ApexspotError, run_stage
from apexspot.core.files import fresh_dir, write_json
from apexspot.core.sources import outside_raw, selected
from apexspot.recordings import sources, synthetic as synthetic_recordings
from apexspot.recordings.recording import write_tables


def main() -> None:
    params = config.load()
    p = params.recordings
    names = selected(p.sources)
    outside = outside_raw(p, "recordings")
    if outside:
        raise ApexspotError("; ".join(outside))
    root = fresh_dir(synthetic_recordings.ROOT)  # this stage's own output
    s = p.synthetic
    if "synthetic" in names:
        synthetic_recordings.generate(root, s.subjects, s.seconds, s.seed, s.jpeg_quality, workers=params.workers)
    write_json(root / "dataset.json", {"generated": "synthetic" in names, **(s.model_dump() if "synthetic" in names
                                                                            else {"note": "synthetic is not in recordings.sources"})})
    verdicts = sources.collect(p)
    print(sources.summary(verdicts))
    write_json("data/recordings/ingest_report.json", sources.report(verdicts, names, p.on_defect))
    if not verdicts.recordings:
        raise ApexspotError("no usable recording (see data/recordings/ingest_report.json)")
    write_tables(Path("data/recordings"), verdicts)
    print(f"wrote data/recordings/recordings.csv ({len(verdicts.recordings)} recordings) and intervals.csv "
          f"({len(verdicts.intervals)} intervals)")


if __name__ == "__main__":
    run_stage("recordings/ingest", main)
