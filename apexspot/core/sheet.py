"""Reading coding sheets: find the header row by its content, then hand back plain rows.

Both datasets' sheets are hand-made: CASME II puts its header on row 1 with blank
columns between, SAMM has 13 rows of notes above its header. Matching header cells by
their normalised text ("Onset Frame" == "OnsetFrame") copes with both and with the next
release that moves a column.
"""

from __future__ import annotations

import math
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from apexspot.core.errors import SheetError

# Longest run of preamble rows searched for the header.
HEADER_SEARCH_ROWS = 50


def normalise(name: Any) -> str:
    """'Onset Frame' and 'OnsetFrame' both become 'onsetframe'."""
    return "".join(str(name).lower().split()) if name is not None else ""


@dataclass
class SheetRows:
    path: Path
    sheet_name: str
    header_row: int  # 1-based spreadsheet row of the header
    rows: list[tuple[int, dict[str, Any]]]  # (1-based spreadsheet row, normalised column -> value)


def read_sheet(path: str | Path, required: list[str], sheet_name: str | None = None) -> SheetRows:
    """Rows of the sheet below the first row that holds every `required` column.

    `sheet_name=None` takes the first sheet that has such a header row.
    """
    path = Path(path)
    book = _open_workbook(path)
    names = [sheet_name] if sheet_name is not None else book.sheet_names
    if sheet_name is not None and sheet_name not in book.sheet_names:
        raise SheetError(f"{path}: no sheet named {sheet_name!r} (sheets: {', '.join(book.sheet_names)})")
    wanted = [normalise(c) for c in required]
    best: tuple[int, str, int, list[str]] | None = None  # (found count, sheet, row, missing)
    all_empty = True
    for name in names:
        try:
            table = pd.read_excel(book, sheet_name=name, header=None, dtype=object)
        except Exception as err:  # noqa: BLE001  the XML parser's ParseError, openpyxl's own errors...
            first = str(err).strip().splitlines()[0][:200] if str(err).strip() else ""
            raise SheetError(f"{path}: sheet {name!r} cannot be read safely ({type(err).__name__}: {first})") from None
        if table.empty:
            continue
        all_empty = False
        for i in range(min(HEADER_SEARCH_ROWS, len(table))):
            cells = [normalise(v) for v in table.iloc[i].tolist() if not _blank(v)]
            missing = [orig for orig, w in zip(required, wanted) if w not in cells]
            if not missing:
                return _rows_below(path, name, table, i)
            found = len(required) - len(missing)
            if best is None or found > best[0]:
                best = (found, name, i + 1, missing)
    where = f"sheet {sheet_name!r}" if sheet_name else "every sheet"
    if all_empty:
        raise SheetError(f"{path}: {where} is empty")
    if best is None or best[0] == 0:
        raise SheetError(f"{path}: no header row with columns {', '.join(required)} in {where}")
    _, name, row, missing = best
    raise SheetError(f"{path}: sheet {name!r} has no column(s) {', '.join(missing)} "
                     f"(closest header candidate: row {row}); expected {', '.join(required)}")


def _open_workbook(path: Path) -> pd.ExcelFile:
    if not path.is_file():
        raise SheetError(f"{path}: annotation sheet not found")
    try:
        return pd.ExcelFile(path, engine="openpyxl")
    except (zipfile.BadZipFile, ValueError, KeyError, OSError) as err:
        raise SheetError(f"{path}: not a readable .xlsx workbook ({type(err).__name__}: {err})") from None
    except Exception as err:  # openpyxl raises its own InvalidFileException and friends
        raise SheetError(f"{path}: not a readable .xlsx workbook ({type(err).__name__}: {err})") from None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value)) or str(value).strip() == ""


def _rows_below(path: Path, sheet: str, table: pd.DataFrame, header_index: int) -> SheetRows:
    header = [normalise(v) if not _blank(v) else "" for v in table.iloc[header_index].tolist()]
    rows = []
    for i in range(header_index + 1, len(table)):
        values = table.iloc[i].tolist()
        if all(_blank(v) for v in values):
            continue  # a blank spreadsheet row is layout, not a clip
        record = {}
        for key, value in zip(header, values):
            if key and key not in record:
                record[key] = None if _blank(value) else value
        rows.append((i + 1, record))
    return SheetRows(path=path, sheet_name=sheet, header_row=header_index + 1, rows=rows)


@dataclass
class Skipped:
    """A clip left out, or kept but flagged, by a stage: the one record type every report uses."""

    dataset: str
    sheet: str
    row: int
    clip_id: str
    reason: str
    detail: str
    stage: str = "ingest"

    @classmethod
    def of(cls, clip: Any, stage: str, reason: str, detail: str) -> "Skipped":
        return cls(clip.dataset, clip.sheet, clip.sheet_row, clip.clip_id, reason, detail, stage)

    def message(self) -> str:
        return f"{self.sheet} row {self.row} ({self.clip_id}): {self.reason}: {self.detail}"


def cell_text(value: Any) -> str:
    """A descriptive cell (emotion, AUs) as clean text; blanks become ''."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


@dataclass
class Verdicts:
    """What a reader made of a sheet: the items kept (clips, coded intervals), the rows and
    items skipped, and kept ones worth a look."""

    kept: list[Any] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[Skipped] = field(default_factory=list)

    def extend(self, other: "Verdicts") -> None:
        self.kept += other.kept
        self.skipped += other.skipped
        self.warnings += other.warnings
