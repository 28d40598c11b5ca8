"""`spot --plot`: the pictures, and where they may be written (never over a user's file)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from apexspot.core.errors import ApexspotError
from apexspot.core.files import atomic_path
from apexspot.core.licensed import EXPORTS, refuse_if_git_would_add

if TYPE_CHECKING:
    from apexspot.spot.apex import Spotted
    from apexspot.spot.intervals import Found


PLOT_MARK = "apexspot spot"  # the PNG's Software text: a file that says it is ours may be written over


def our_plot(path: Path) -> bool:
    """Whether `path` is a PNG an earlier `spot --plot` wrote (it says so in its Software text)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return image.format == "PNG" and image.info.get("Software") == PLOT_MARK
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return False


def check_plot_path(path: str | Path | None, source: str | Path | None = None) -> None:
    """--plot names a new PNG file (or an earlier plot of ours) in an existing folder, outside
    the recording's own folder: a user's file is never written over. Said before any work."""
    if path is None:
        return
    path = Path(path)
    if path.is_dir():
        raise ApexspotError(f"--plot {path}: is a folder; name the PNG file to write (e.g. {path / 'spotted.png'})")
    if source is not None:
        source = Path(source).resolve()
        if path.resolve() == source or (source.is_dir() and path.resolve().is_relative_to(source)):
            raise ApexspotError(f"--plot {path}: inside the recording {source}; the plot is written elsewhere, so "
                                f"the recording's files are never touched")
    if path.parent.resolve() == EXPORTS.resolve():
        EXPORTS.mkdir(exist_ok=True)
    if not path.parent.is_dir():
        raise ApexspotError(f"--plot {path}: no folder {path.parent} to write it in")
    if path.suffix.lower() != ".png":
        raise ApexspotError(f"--plot {path}: the picture is a PNG; name it <something>.png")
    if path.exists() and not our_plot(path):
        raise ApexspotError(f"--plot {path}: a file that is not an earlier plot of apexspot spot is there; it is "
                            f"not written over: name a new file")
    refuse_if_git_would_add(path, "the plot's aligned frames")


def plot(spotted: Spotted, path: str | Path) -> None:
    """Onset | spotted apex | flow at the apex (with its colour key), beside the score curve."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from apexspot.core.flow import colour_key, to_hsv_image

    r = spotted.result
    fig, axes = plt.subplots(1, 5, figsize=(17, 3.4), gridspec_kw={"width_ratios": [1, 1, 1, 0.45, 2.2]})
    def file(key: str) -> str:
        return f" ({r[key + '_file']})" if key + "_file" in r else ""

    panels = [(spotted.aligned[0], f"onset {r['onset']}{file('onset')}"),
              (spotted.aligned[spotted.at], f"spotted apex {r['apex']}{file('apex')}"),
              (cv2.cvtColor(to_hsv_image(spotted.flow_uv), cv2.COLOR_BGR2RGB), "flow onset -> apex"),
              (cv2.cvtColor(colour_key(64), cv2.COLOR_BGR2RGB), "direction key")]
    for ax, (image, title) in zip(axes, panels):
        ax.imshow(image, cmap="gray" if image.ndim == 2 else None)
        ax.set_title(title, fontsize=8)
        ax.axis("off")
    ax = axes[-1]
    scores = [np.nan if s is None else s for s in r["scores"]]
    ax.plot(spotted.numbers, scores, label=f"mean score of {len(r['models'])} fold models")
    ax.axvline(r["apex"], color="red", linestyle=":", label=f"apex {r['apex']}")
    shade_unusable(ax, r.get("unusable") or [])
    ax.set_xlabel("frame (" + r["numbering"] + ")")
    ax.set_title(Path(r["source"]).name, fontsize=9)
    ax.legend(fontsize=8)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, bbox_inches="tight", format="png", metadata={"Software": PLOT_MARK})
    plt.close(fig)


def plot_intervals(found: Found, path: str | Path) -> None:
    """The two probabilities over the recording, the thresholds, the spotted intervals and the
    spans without a usable face."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    r = found.result
    fig, ax = plt.subplots(figsize=(14, 3.6))
    for k, (kind, colour) in enumerate((("micro", "tab:red"), ("macro", "tab:blue"))):
        ax.plot(found.numbers, found.probs[:, k], color=colour, lw=1, label=f"p({kind})")
        ax.axhline(r["thresholds"][kind], color=colour, lw=0.6, ls=":")
        for i, interval in enumerate(x for x in r["intervals"] if x["kind"] == kind):
            ax.axvspan(interval["onset"] - 0.5, interval["offset"] + 0.5, color=colour, alpha=0.2,
                       label=f"spotted {kind}" if i == 0 else None)
    shade_unusable(ax, r.get("unusable") or [])
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("frame (" + r["numbering"] + ")")
    ax.set_ylabel("probability (mean of the fold models)")
    ax.set_title(f"{Path(r['source']).name}: {len(r['intervals'])} expression(s)", fontsize=9)
    ax.legend(fontsize=7, ncol=4, loc="upper right")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, bbox_inches="tight", format="png", metadata={"Software": PLOT_MARK})
    plt.close(fig)


def shade_unusable(ax: Any, spans: list[dict[str, Any]]) -> None:
    """Grey bands over the frames without a usable face, labelled once per reason."""
    seen: set[str] = set()
    for span in spans:
        label = None if span["reason"] in seen else f"no usable face: {span['reason']}"
        seen.add(span["reason"])
        ax.axvspan(span["first"] - 0.5, span["last"] + 0.5, color="0.6", alpha=0.35, label=label)
