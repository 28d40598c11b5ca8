"""What both ingest stages do with the sources params.yaml selects, whatever their readers.

Each pipeline has a table of readers (`apexspot.clips.sources.READERS`,
`apexspot.recordings.sources.READERS`: a source's name -> the function that reads and
validates it); this module holds the rest: which sources are selected, the refusal of a
dataset outside data/raw, the `fail` policy, and the one-screen list of skips.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Callable, Generic, TypeVar

from apexspot.core.errors import ApexspotError, DefectError
from apexspot.core.files import inside
from apexspot.core.sheet import Verdicts

RAW = Path("data/raw")  # what dvc.yaml declares as ingest's dependency: the datasets added with `dvc add`
V = TypeVar("V", bound=Verdicts)


def selected(sources: list[str]) -> list[str]:
    """The sources in params.yaml's order, each once."""
    return list(dict.fromkeys(sources))


def outside_raw(section: Any, key: str, raw: Path = RAW) -> list[str]:
    """The selected real sources' sheet and frames paths that lie outside data/raw (links
    followed). The pipeline refuses them rather than declaring them as dependencies: a path
    outside the project is not in the queue's temporary clone or on another machine, and a
    dataset DVC does not hash can change without rerunning anything. `section` is params.yaml's
    `data` or `recordings`, named `key`."""
    bad = []
    for name in selected(section.sources):
        if name == "synthetic":
            continue
        for part in ("frames", "sheet"):
            path = Path(getattr(getattr(section, name), part))
            if not inside(path, raw):
                bad.append(f"{key}.{name}.{part}: {path} is outside {raw}/ (add the dataset there with `dvc add`, "
                           f"as the README says)")
    return bad


class Ingest(Generic[V]):
    """Every selected source read by its reader (`readers`: name -> reader) and merged; then
    the `fail` policy: a defect raises DefectError naming each sheet row."""

    def __init__(self, readers: dict[str, Callable[[], V]], empty: Callable[[], V], key: str, what: str) -> None:
        self.readers, self.empty, self.key, self.what = readers, empty, key, what

    def collect(self, sources: list[str], check: Callable[[str, V], None] | None = None) -> V:
        out = self.empty()
        for name in selected(sources):
            if name not in self.readers:
                raise ApexspotError(f"{self.key}.sources: no reader for {name!r} (one of {', '.join(self.readers)})")
            verdicts = self.readers[name]()
            if check is not None:
                check(name, verdicts)
            out.extend(verdicts)
        return out

    def enforce(self, verdicts: V, on_defect: str) -> V:
        if on_defect == "fail" and verdicts.skipped:
            lines = [s.message() for s in verdicts.skipped]
            more = f"\n  ... and {len(lines) - 20} more" if len(lines) > 20 else ""
            raise DefectError(f"{len(lines)} defective {self.what} and {self.key}.on_defect is 'fail':\n  "
                              + "\n  ".join(lines[:20]) + more)
        return verdicts


def reason_lines(skipped: list[Any]) -> list[str]:
    """'skipped, by reason:' and each reason's count with an example sheet row."""
    if not skipped:
        return []
    lines = ["skipped, by reason:"]
    for reason, n in Counter(s.reason for s in skipped).most_common():
        e = next(s for s in skipped if s.reason == reason)
        lines.append(f"  {reason:<26}{n:>5}   e.g. {e.sheet} row {e.row} {e.clip_id}")
    return lines
