"""The `apexspot` command: tools a researcher uses outside `dvc repro`."""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

from apexspot.core.config import SyntheticSource
from apexspot.core.errors import ApexspotError, run_stage
from apexspot.core.files import atomic_path
from apexspot.core.licensed import EXPORTS


def cmd_sheet(args: argparse.Namespace) -> None:
    """Check a coding sheet (and its frames, if given) without running the pipeline."""
    from apexspot.clips import casme2
    from apexspot.clips import samm
    from apexspot.clips import sources

    reader = casme2.read if args.dataset == "casme2" else samm.read
    verdicts = reader(args.path, args.frames)
    print(sources.summary(verdicts))
    if args.verbose:
        for s in verdicts.skipped + verdicts.warnings:
            print("  " + s.message())


def cmd_synthetic(args: argparse.Namespace) -> None:
    """Write a synthetic dataset (CASME II layout) to a new folder."""
    from apexspot.core import config
    from apexspot.clips import synthetic

    out = Path(args.out)
    if out.exists() and any(out.iterdir()):
        raise ApexspotError(f"{out}: folder exists and is not empty")
    s = config.load().data.synthetic.replace(
        **{k: v for k, v in vars(args).items() if k in SyntheticSource.model_fields and v is not None})
    start = time.perf_counter()
    with atomic_path(out, folder=True) as work:  # the folder appears only when complete
        clips = synthetic.generate(work, s.subjects, s.clips_per_subject, s.seed, s.jpeg_quality, workers=args.workers)
    frames = sum(c.offset - c.onset + 1 for c in clips)
    print(f"wrote {len(clips)} clips, {frames} frames to {out} in {time.perf_counter() - start:.1f} s")


def cmd_ablate(args: argparse.Namespace) -> None:
    """Run every variant in params.yaml (or, with --recordings, each interval-spotter setting) as a DVC experiment
    and print the table."""
    from apexspot import ablation
    from apexspot.core import config

    start = time.perf_counter()
    if args.recordings:
        bad = [v for v in args.variants if "=" not in v or not v.startswith("recordings.")]
        if bad:
            raise ApexspotError(f"with --recordings, each variant is a setting like recordings.spotter.width=16, "
                                f"not {bad[0]!r}")
        ablation.run_recordings(args.variants, args.set, args.jobs)
        print(f"\n{len(args.variants) + 1} experiments in {time.perf_counter() - start:.0f} s")
        return
    variants = args.variants or list(config.load().variants)
    ablation.run(variants, args.set, args.jobs)
    print(f"\n{len(variants)} experiments in {time.perf_counter() - start:.0f} s")


def cmd_spot(args: argparse.Namespace) -> None:
    """Every expression in a recording (video file or folder of frames); with --onset/--offset, the apex between."""
    import json

    from apexspot.spot import apex, intervals, plots

    if args.onset is None and args.offset is None:  # the whole recording: every expression in it
        found = intervals.spot_intervals(args.source, args.models or "recordings/models", args.plot, args.fps,
                                         args.recognisers)
        if args.plot:
            plots.plot_intervals(found, args.plot)
        print(json.dumps(found.result) if args.json else intervals.describe_intervals(found.result))
        return
    spotted = apex.spot(args.source, args.onset, args.offset, args.models or "models", args.plot, args.fps,
                        args.recognisers)
    if args.plot:
        plots.plot(spotted, args.plot)
    print(json.dumps(spotted.result) if args.json else apex.describe(spotted.result))


def cmd_export(args: argparse.Namespace) -> None:
    """Write every clip's onset and apex frame and the flow between them, with a labelled index."""
    from apexspot.core.config import FlowParams
    from apexspot.clips.export import export
    from apexspot.spot.models import load_settings

    out = Path(args.out) if args.out else EXPORTS / args.apex
    flow = FlowParams.from_params(load_settings(Path(args.models), ("flow",))["flow"], f"{args.models}/params.yaml: flow")
    index = export(out, args.predictions, args.data, flow, args.apex, args.classes)
    print(f"wrote {len(index)} clips to {out} ({args.apex} apex; index: {out / 'index.csv'})")


def cmd_check(args: argparse.Namespace) -> None:
    """Check params.yaml as the stages will read it, before DVC does (DVC expands YAML aliases
    without limit and keeps the last of two equal keys)."""
    from apexspot.core import config

    p = config.load(args.params)
    print(f"{args.params}: every setting present and valid; variant {p.variant} ({p.selected_variant().kind})")


def cmd_offline_plots(args: argparse.Namespace) -> None:
    """Write the HTML template with Vega inline that `dvc plots show` uses (.dvc/config)."""
    from apexspot import offline_plots

    path = offline_plots.write(args.out)
    print(f"wrote {path} ({path.stat().st_size // 1024} KB); .dvc/config's plots.html_template names it")


def cmd_compare(args: argparse.Namespace) -> None:
    """Print the headline metrics of two metrics/mae.json files side by side (Markdown)."""
    import json

    from apexspot.clips.metrics import compare_table

    loaded = []
    for path in (args.base, args.new):
        try:
            loaded.append(json.loads(Path(path).read_text()))
        except (OSError, ValueError) as e:
            raise ApexspotError(f"{path}: not a readable metrics file ({e})") from None
    print(compare_table(*loaded))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="apexspot", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("sheet", help=cmd_sheet.__doc__)
    s.add_argument("path", help="the .xlsx coding sheet")
    s.add_argument("--dataset", choices=["casme2", "samm"], required=True)
    s.add_argument("--frames", help="frames root (sub01/... for CASME II, 006/... for SAMM) to check too")
    s.add_argument("-v", "--verbose", action="store_true", help="list every skipped and flagged row")
    s.set_defaults(func=cmd_sheet)

    s = sub.add_parser("synthetic", help=cmd_synthetic.__doc__)
    s.add_argument("out")
    for name in ("subjects", "clips-per-subject", "seed", "jpeg-quality"):
        s.add_argument(f"--{name}", type=int, help=f"default: data.synthetic.{name.replace('-', '_')} in params.yaml")
    s.add_argument("--workers", type=int, default=0, help="0 = one per core")
    s.set_defaults(func=cmd_synthetic)

    s = sub.add_parser("spot", help=cmd_spot.__doc__)
    s.add_argument("source", help="a video file (anything OpenCV reads) or a folder of frames")
    s.add_argument("--onset", type=int, help="first frame of the window, numbered as the recording numbers them: "
                   "the number in the file name for a folder (img46.jpg: 46), the 0-based index for a video "
                   "(with --onset and/or --offset: one apex in that window; with neither: every expression in the recording)")
    s.add_argument("--offset", type=int, help="last frame of the window, numbered the same way (default: the last)")
    s.add_argument("--models", help="folder of fold_<k>.keras (default: recordings/models/ for a whole recording, "
                   "models/ with --onset/--offset)")
    s.add_argument("--recognisers", help="folder of the emotion classifiers (default: recognisers/ beside the "
                   "--models folder: recordings/recognisers/ or recognisers/)")
    s.add_argument("--fps", type=positive_fps, help="frames per second (default: the video's own; 200 for a folder)")
    s.add_argument("--json", action="store_true", help="print the result as JSON")
    s.add_argument("--plot", help="write the picture to this PNG: the probabilities over time with the intervals "
                   "(whole recording), or onset | apex | flow beside the score curve (--onset/--offset)")
    s.set_defaults(func=cmd_spot)

    s = sub.add_parser("export", help=cmd_export.__doc__)
    s.add_argument("out", nargs="?", help="a new folder, git-ignored or outside the repository "
                   "(default: exports/spotted or exports/true)")
    s.add_argument("--apex", choices=["spotted", "true"], default="spotted",
                   help="the model's apex (default) or the coders' (for an upper bound)")
    s.add_argument("--predictions", default="metrics/predictions.csv", help="the run to export")
    s.add_argument("--classes", default="metrics/recognition_predictions.csv",
                   help="the recognise stage's classes of the same run (index.csv's predicted_class)")
    s.add_argument("--data", default="data", help="folder holding aligned/ and flow/ (default: data/)")
    s.add_argument("--models", default="models", help="folder whose params.yaml gives the flow settings")
    s.set_defaults(func=cmd_export)

    s = sub.add_parser("ablate", help=cmd_ablate.__doc__)
    s.add_argument("variants", nargs="*", help="variants to run (default: all in params.yaml); with --recordings, "
                   "settings of the long-recording pipeline, one experiment each (recordings.spotter.width=16)")
    s.add_argument("--recordings", action="store_true", help="ablate the interval spotter (recordings/dvc.yaml) "
                   "instead of the short-clip variants")
    s.add_argument("-S", "--set", action="append", default=[], help="extra param override, as for dvc exp run")
    s.add_argument("-j", "--jobs", type=int, default=1, help="experiments at a time")
    s.set_defaults(func=cmd_ablate)

    s = sub.add_parser("check", help=cmd_check.__doc__)
    s.add_argument("params", nargs="?", default="params.yaml")
    s.set_defaults(func=cmd_check)

    s = sub.add_parser("offline-plots", help=cmd_offline_plots.__doc__)
    s.add_argument("out", nargs="?", default=".dvc/offline-plots.html")
    s.set_defaults(func=cmd_offline_plots)

    s = sub.add_parser("compare", help=cmd_compare.__doc__)
    s.add_argument("base", help="metrics/mae.json of the run to compare against")
    s.add_argument("new", help="metrics/mae.json of this run")
    s.set_defaults(func=cmd_compare)
    return p


def positive_fps(text: str) -> float:
    """--fps: a positive, finite number (0 is not "use the header": leave --fps out for that)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive, finite number of frames per second, not {text!r}")
    return value


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    run_stage(f"apexspot {args.command}", lambda: args.func(args))


if __name__ == "__main__":
    main()
