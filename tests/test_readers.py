"""CASME II and SAMM readers: the real sheets, each known defect, and each kind of bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import casme_frames, casme_sheet, samm_frames, samm_sheet, write_xlsx

from defaults import data_params

from apexspot.clips import casme2, samm, sources
from apexspot.clips.manifest import frame_number, unsafe_component
from apexspot.core.errors import DefectError, SheetError


def reasons(verdicts) -> dict[str, str]:
    return {s.clip_id: s.reason for s in verdicts.skipped}


# ------------------------------------------------------------ the real sheets


@pytest.mark.parametrize("name", ["CASME2-coding-20140508.xlsx", "CASME2-coding-20190701.xlsx"])
def test_real_casme2_sheets_parse(reference: Path, name: str) -> None:
    v = casme2.read(reference / name)
    assert len(v.kept) + len(v.skipped) == 255
    assert reasons(v) == {"casme2/sub04/EP12_01f": "apex_not_a_number"}
    assert v.skipped[0].row == 31
    flagged = {w.clip_id: w.reason for w in v.warnings}
    assert flagged["casme2/sub05/EP09_05f"] == "apex_at_onset"
    for clip in ("sub05/EP16_04f", "sub12/EP09_06", "sub20/EP16_01", "sub25/EP18_04f"):
        assert flagged[f"casme2/{clip}"] == "apex_at_offset"
    first = v.kept[0]
    assert (first.clip_id, first.subject, first.onset, first.apex, first.offset) == (
        "casme2/sub01/EP02_01f", "casme2-01", 46, 59, 86)
    assert first.emotion == "happiness" and first.sheet_row == 2


def test_real_casme2_2019_release_keeps_objective_class(reference: Path) -> None:
    v = casme2.read(reference / "CASME2-coding-20190701.xlsx")
    assert v.kept[0].objective_class == "1"


def test_real_samm_sheet_parses(reference: Path) -> None:
    v = samm.read(reference / "SAMM_Micro_FACS_Codes_v2.xlsx")
    assert len(v.kept) + len(v.skipped) == 159
    assert reasons(v) == {"samm/028/028_4_1": "apex_outside_window", "samm/032/032_3_1": "apex_outside_window"}
    assert {w.clip_id: w.reason for w in v.warnings}["samm/032/032_3_2"] == "apex_next_to_onset"
    first = v.kept[0]
    assert (first.clip_id, first.subject, first.onset) == ("samm/006/006_1_2", "samm-006", 5562)
    assert first.sheet_row == 15  # header on spreadsheet row 14


# ------------------------------------------------------------ each known sheet defect, re-made (docs/datasets.md)


def test_casme2_defects(tmp_path: Path) -> None:
    rows = [(4, "EP12_01f", 31, "/", 60), (5, "EP09_05f", 69, 69, 100), (5, "EP16_04f", 150, 181, 181),
            (12, "EP09_06", 80, 111, 111), (1, "EP02_01f", 46, 59, 86)]
    root = tmp_path / "CASME2_RAW_selected"
    for s, f, on, _, off in rows:
        casme_frames(root, s, f, on, off)
    v = casme2.read(casme_sheet(tmp_path / "c.xlsx", rows), root)
    assert reasons(v) == {"casme2/sub04/EP12_01f": "apex_not_a_number"}
    kept = {c.clip_id: c.apex for c in v.kept}
    assert kept == {"casme2/sub05/EP09_05f": 69, "casme2/sub05/EP16_04f": 181,
                    "casme2/sub12/EP09_06": 111, "casme2/sub01/EP02_01f": 59}
    assert {w.clip_id for w in v.warnings} == {"casme2/sub05/EP09_05f", "casme2/sub05/EP16_04f",
                                              "casme2/sub12/EP09_06"}


def test_samm_defects(tmp_path: Path) -> None:
    rows = [("028", "028_4_1", 1071, 1143, 1134), ("032", "032_3_1", 4896, 1930, 4970),
            ("032", "032_3_2", 5126, 5127, 5180)]
    root = tmp_path / "SAMM"
    for s, f, on, _, off in rows:
        samm_frames(root, s, f, on, off)
    v = samm.read(samm_sheet(tmp_path / "s.xlsx", rows), root)
    assert reasons(v) == {"samm/028/028_4_1": "apex_outside_window", "samm/032/032_3_1": "apex_outside_window"}
    assert [c.clip_id for c in v.kept] == ["samm/032/032_3_2"]
    assert v.kept[0].apex == 5127 and v.kept[0].frame_pattern == "032_{frame:05d}.jpg"
    assert v.kept[0].frame_path(5126).name == "032_05126.jpg"


def test_fail_policy_names_sheet_row_clip_and_defect(tmp_path: Path) -> None:
    sheet = casme_sheet(tmp_path / "c.xlsx", [(1, "EP02_01f", 46, 59, 86), (4, "EP12_01f", 31, "/", 60)])
    root = tmp_path / "frames"
    casme_frames(root, 1, "EP02_01f", 46, 86)
    casme_frames(root, 4, "EP12_01f", 31, 60)
    data = {"sources": ["casme2"], "on_defect": "fail", "casme2": {"sheet": str(sheet), "frames": str(root)}}
    with pytest.raises(DefectError, match=r"c\.xlsx row 3 \(casme2/sub04/EP12_01f\): apex_not_a_number"):
        sources.collect(data_params(**data))
    data["on_defect"] = "skip"
    assert [c.clip_id for c in sources.collect(data_params(**data)).kept] == ["casme2/sub01/EP02_01f"]


def test_samm_header_found_by_content(tmp_path: Path) -> None:
    for preamble in (2, 13, 20):
        sheet = samm_sheet(tmp_path / f"s{preamble}.xlsx", [("006", "006_1_2", 5562, 5588, 5632)], preamble)
        v = samm.read(sheet)
        assert [(c.clip_id, c.sheet_row) for c in v.kept] == [("samm/006/006_1_2", preamble + 2)]


def test_samm_numeric_subject_keeps_its_zeros(tmp_path: Path) -> None:
    v = samm.read(samm_sheet(tmp_path / "s.xlsx", [(6, "006_1_2", 10, 20, 30)]))
    assert v.kept[0].subject == "samm-006"


# ------------------------------------------------------------ frames on disk


def test_missing_and_empty_frames(tmp_path: Path) -> None:
    rows = [(1, "A", 10, 15, 20), (1, "B", 10, 15, 20), (1, "C", 10, 15, 20), (2, "D", 10, 15, 20)]
    root = tmp_path / "frames"
    for _, f, on, _, off in rows[:3]:
        casme_frames(root, 1, f, on, off)
    (root / "sub01" / "A" / "img13.jpg").unlink()
    (root / "sub01" / "B" / "img17.jpg").write_bytes(b"")
    v = casme2.read(casme_sheet(tmp_path / "c.xlsx", rows), root)
    assert reasons(v) == {"casme2/sub01/A": "missing_frames", "casme2/sub01/B": "empty_frames",
                          "casme2/sub02/D": "clip_folder_missing"}
    details = {s.clip_id: s.detail for s in v.skipped}
    assert "img13.jpg" in details["casme2/sub01/A"] and "img17.jpg" in details["casme2/sub01/B"]
    assert [c.clip_id for c in v.kept] == ["casme2/sub01/C"]


def test_cropped_layout_detected(tmp_path: Path) -> None:
    root = tmp_path / "Cropped"
    casme_frames(root, 1, "EP02_01f", 46, 86, prefix="reg_img")
    v = casme2.read(casme_sheet(tmp_path / "c.xlsx", [(1, "EP02_01f", 46, 59, 86)]), root)
    assert v.kept[0].frame_pattern == "reg_img{frame}.jpg"
    assert v.kept[0].frame_path(46) == root / "sub01" / "EP02_01f" / "reg_img46.jpg"


@pytest.mark.parametrize("filename", ["../../etc", "sub02/EP01", "..", "a\\b", "/abs"])
def test_path_escaping_filename_is_skipped(tmp_path: Path, filename: str) -> None:
    root = tmp_path / "frames"
    root.mkdir()
    v = casme2.read(casme_sheet(tmp_path / "c.xlsx", [(1, filename, 10, 15, 20)]), root)
    assert not v.kept and v.skipped[0].reason == "unsafe_path"
    assert "Filename" in v.skipped[0].detail


def test_path_escaping_subject_is_skipped(tmp_path: Path) -> None:
    v = samm.read(samm_sheet(tmp_path / "s.xlsx", [("../006", "006_1_2", 10, 15, 20)]), tmp_path)
    assert v.skipped[0].reason == "unsafe_path" and "Subject" in v.skipped[0].detail


def test_duplicate_clip_ids(tmp_path: Path) -> None:
    root = tmp_path / "frames"
    casme_frames(root, 1, "EP02_01f", 46, 86)
    sheet = casme_sheet(tmp_path / "c.xlsx", [(1, "EP02_01f", 46, 59, 86), ("01", "EP02_01f", 46, 60, 86)])
    data = {"sources": ["casme2"], "casme2": {"sheet": str(sheet), "frames": str(root)}}
    v = sources.collect(data_params(**data))
    assert [c.apex for c in v.kept] == [59]
    assert v.skipped[0].reason == "duplicate_clip_id" and "row 2" in v.skipped[0].detail


# ------------------------------------------------------------ sheets that cannot be read


def test_renamed_column(tmp_path: Path) -> None:
    header = ["Subject", "Filename", None, "OnsetFrame", "Apex", "OffsetFrame"]
    with pytest.raises(SheetError, match=r"c\.xlsx: sheet 'Sheet1' has no column\(s\) ApexFrame"):
        casme2.read(casme_sheet(tmp_path / "c.xlsx", [(1, "A", 1, 2, 3)], header=header))


def test_missing_column(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "s.xlsx", [["Subject", "Filename", "Onset Frame", "Offset Frame"],
                                             ["006", "006_1_2", 1, 9]], sheet="MICRO_ONLY")
    with pytest.raises(SheetError, match="has no column.*Apex Frame"):
        samm.read(path)


def test_empty_sheet(tmp_path: Path) -> None:
    with pytest.raises(SheetError, match=r"e\.xlsx: every sheet is empty"):
        casme2.read(write_xlsx(tmp_path / "e.xlsx", []))


def test_wrong_sheet_name(tmp_path: Path) -> None:
    with pytest.raises(SheetError, match="no sheet named 'MICRO_ONLY'"):
        samm.read(write_xlsx(tmp_path / "s.xlsx", [["x"]], sheet="Other"))


@pytest.mark.parametrize("content", [b"Subject,Filename\n1,EP01\n", b"", b"PK\x03\x04garbage"])
def test_not_an_xlsx(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "sheet.xlsx"
    path.write_bytes(content)
    with pytest.raises(SheetError, match=r"sheet\.xlsx: not a readable \.xlsx workbook"):
        casme2.read(path)


def test_missing_sheet_file(tmp_path: Path) -> None:
    with pytest.raises(SheetError, match="annotation sheet not found"):
        samm.read(tmp_path / "nope.xlsx")


# ------------------------------------------------------------ cell-level rules


@pytest.mark.parametrize("value,expected", [(46, 46), (46.0, 46), ("46", 46), (" 46 ", 46), ("/", None),
                                            (None, None), (46.5, None), (-3, None), (True, None), ("4a", None)])
def test_frame_number(value, expected) -> None:
    assert frame_number(value) == expected


@pytest.mark.parametrize("text,safe", [("EP02_01f", True), ("006_1_2", True), ("..", False), ("a/b", False),
                                       ("a..b", False), ("", False), ("C:x", False)])
def test_unsafe_component(text: str, safe: bool) -> None:
    assert (unsafe_component(text) is None) is safe
