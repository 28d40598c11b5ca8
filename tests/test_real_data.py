"""A dataset in the real CASME II layout, added to DVC the README's way: queued experiments see
it, and a changed frame reruns ingest."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import cv2
import pytest
from project import ROOT, TINY, Project

from apexspot.clips import synthetic

# The README's commands for adding CASME II, in its order (the test checks they are there).
ADD = [
    "dvc config --local cache.type hardlink,symlink",
    "dvc add data/raw/CASME2",
    "git add data/raw/CASME2.dvc params.yaml",
]


def casme2_layout(root: Path) -> None:
    """Two clips as CASME II ships them: CASME2_RAW_selected/subNN/EPxx/imgN.jpg and the coding sheet."""
    made = root.parent / "generated"
    synthetic.generate(made, 2, 1, seed=3, jpeg_quality=90, workers=1, progress=False)
    shutil.copytree(made / synthetic.FRAMES_DIR, root / "CASME2_RAW_selected")
    shutil.copy(made / synthetic.SHEET, root / "CASME2-coding-20190701.xlsx")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    project = Project(tmp_path_factory.mktemp("real") / "proj")
    project.set_params(**TINY, **{"data.sources": ["casme2"]})
    casme2_layout(project.path / "data/raw/CASME2")
    for command in ADD:
        if command.startswith("dvc "):
            project.dvc(*command.split()[1:])
        else:
            project.run(*command.split())
    project.commit("CASME II added with dvc add")
    return project


def test_the_readme_adds_a_dataset_with_these_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    positions = [readme.find(command) for command in ADD]
    assert -1 not in positions and positions == sorted(positions), positions


def test_the_dataset_is_tracked_by_dvc_and_not_by_git(project: Project) -> None:
    tracked = project.run("git", "ls-files").stdout.split()
    assert "data/raw/CASME2.dvc" in tracked and not any(p.startswith("data/raw/CASME2/") for p in tracked)
    frame = next((project.path / "data/raw/CASME2").rglob("img*.jpg"))
    assert frame.stat().st_nlink == 2 or frame.is_symlink()  # linked to the cache, not copied
    (project.path / "data/raw/loose-sheet.xlsx").write_bytes(b"licensed")  # nor a file dropped beside it
    assert "loose-sheet" not in project.run("git", "status", "--porcelain", "--untracked-files=all").stdout
    (project.path / "data/raw/loose-sheet.xlsx").unlink()


def test_a_queued_experiment_runs_on_the_added_dataset(project: Project) -> None:
    project.dvc("exp", "run", "--queue", "-n", "on-casme2")
    done = project.dvc("exp", "run", "--run-all")
    assert "is empty" not in done.stdout + done.stderr  # no empty data/synthetic output any more
    shown = project.run(sys.executable, "-c", "import json, dvc.api; print(json.dumps(dvc.api.exp_show()))")
    [row] = [r for r in json.loads(shown.stdout) if r["Experiment"] == "on-casme2"]
    assert row["State"] not in ("Failed", "Queued") and isinstance(row["model.mae"], float) and row["clips"] == 2


def test_changing_one_frame_reruns_ingest(project: Project) -> None:
    done = project.dvc("repro", "ingest")
    assert "is empty" not in done.stdout + done.stderr
    report = json.loads((project.path / "data/ingest_report.json").read_text())
    assert report["kept"] == {"casme2": 2}
    assert json.loads((project.path / "data/synthetic/dataset.json").read_text())["generated"] is False
    assert project.dvc("repro", "ingest").stdout.count("Running stage 'ingest'") == 0
    frame = sorted((project.path / "data/raw/CASME2").rglob("img*.jpg"))[0]
    project.dvc("unprotect", str(frame.relative_to(project.path)))  # the README's way to edit a linked file
    image = cv2.imread(str(frame))
    image[:8, :8] = 0
    cv2.imwrite(str(frame), image)
    project.dvc("add", "data/raw/CASME2")
    assert "Running stage 'ingest'" in project.dvc("repro", "ingest").stdout


def test_the_ci_script_adds_the_runners_data_with_dvc_not_a_symlink(project: Project, tmp_path: Path) -> None:
    runner = tmp_path / "runner-data"
    shutil.copytree(project.path / "data/raw/CASME2", runner / "CASME2")
    committed = (project.path / "data/raw/CASME2.dvc").read_text()
    project.commit("before the CI run")
    done = project.run("bash", "gpu/repro.sh", "--report", "report.md",
                       env_extra={"APEXSPOT_DATA": str(runner), "APEXSPOT_HOME": str(tmp_path / "home")})
    assert (project.path / "report.md").read_text().startswith("## apexspot: apex MAE (frames), data: casme2")
    linked = project.path / "data/raw/CASME2"
    assert not linked.is_symlink() and next(linked.rglob("img*.jpg")).is_file()
    # The same frames give the same hash: DVC tracks the runner's data by content.
    assert (project.path / "data/raw/CASME2.dvc").read_text() == committed, done.stderr
