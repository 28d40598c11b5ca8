"""DVC stage ingest: (synthetic data), sheets + frames -> data/manifest.csv, data/ingest_report.json."""

import sys

from apexspot.atomic import atomic_dir, write_csv, write_json
from apexspot.datasets import sources, synthetic
from apexspot.datasets.manifest import to_frame
from apexspot.errors import ApexspotError
from apexspot.params import load_params, section


def main() -> None:
    params = load_params()
    data = section(params, "data")
    names = sources.selected_sources(data)
    synth = data.get("synthetic") or {}
    with atomic_dir(synth.get("root", "data/synthetic")) as tmp:
        if "synthetic" in names:
            synthetic.generate(tmp, synth["subjects"], synth["clips_per_subject"], synth["seed"],
                               synth.get("jpeg_quality", 90), workers=params.get("workers", 0))
    verdicts = sources.collect(data)
    print(sources.summary(verdicts))
    write_json("data/ingest_report.json", sources.report(verdicts, names, sources.policy(data)))
    if not verdicts.kept:
        raise ApexspotError("no usable clips: every clip was skipped (see data/ingest_report.json)")
    write_csv("data/manifest.csv", to_frame(verdicts.kept))
    print(f"wrote data/manifest.csv ({len(verdicts.kept)} clips)")


if __name__ == "__main__":
    try:
        main()
    except ApexspotError as err:
        sys.exit(f"ingest: error: {err}")
