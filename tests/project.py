"""A throwaway git+DVC copy of the project, for end-to-end `dvc repro` tests."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
COPY = ["dvc.yaml", "params.yaml", ".dvcignore", ".gitignore", ".dvc/config", ".dvc/.gitignore", ".dvc/plots",
        ".dvc/offline-plots.html",
        "stages", "apexspot", "data/raw/README.md", "data/raw/.gitignore", "data/.gitignore", "gpu"]
ENV = {
    **os.environ,
    # `python` in dvc.yaml's commands must be this interpreter, with apexspot installed.
    "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    "GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "test", "GIT_COMMITTER_EMAIL": "test@example.com",
    "DVC_NO_ANALYTICS": "1", "PYTHONUNBUFFERED": "1",
}


class Project:
    def __init__(self, path: Path, recordings: bool = False) -> None:
        """`recordings`: with the long-recording pipeline (recordings/dvc.yaml) too; without it
        `dvc status` and `dvc plots show` speak of the short-clip pipeline alone."""
        self.path = path
        for name in COPY + (["recordings/dvc.yaml"] if recordings else []):
            src, dst = ROOT / name, path / name
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(src, dst)
        self.run("git", "init", "-q")
        self.commit("copy of apexspot")

    @classmethod
    def existing(cls, path: Path) -> "Project":
        """A checkout made otherwise (a git clone), driven the same way."""
        project = cls.__new__(cls)
        project.path = path
        return project

    def run(self, *args: str, check: bool = True, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        done = subprocess.run(args, cwd=self.path, env=ENV | (env_extra or {}), capture_output=True, text=True)
        if check and done.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return done

    def dvc(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.run(sys.executable, "-m", "dvc", *args, check=check)

    def commit(self, message: str) -> None:
        self.run("git", "add", "-A")
        self.run("git", "commit", "-q", "--allow-empty", "-m", message)

    def params(self) -> dict:
        return yaml.safe_load((self.path / "params.yaml").read_text())

    def set_params(self, **dotted) -> None:
        """set_params(**{"data.synthetic.subjects": 2})"""
        params = self.params()
        for key, value in dotted.items():
            node = params
            *parents, last = key.split(".")
            for p in parents:
                node = node[p]
            node[last] = value
        (self.path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))

    def status(self, pipeline: str = "dvc.yaml") -> dict:
        """`dvc status` of one pipeline (the short-clip one unless told): the long-recording
        pipeline's stages have not run in most test copies."""
        return json.loads(self.dvc("status", pipeline, "--json").stdout or "{}")


TINY = {"data.synthetic.subjects": 2, "data.synthetic.clips_per_subject": 1, "workers": 2, "folds.k": 2,
        "train.frame.epochs": 1, "train.frame.frame_stride": 8, "train.frame.batch_size": 16,
        "train.clip.epochs": 1, "variants.clip.width": 8}

# The long-recording pipeline in seconds: one recording per face photograph, a few seconds each.
TINY_RECORDINGS = {"workers": 2, "recordings.synthetic.subjects": 3, "recordings.synthetic.seconds": 6,
                   "recordings.folds.k": 2, "recordings.train.epochs": 2, "recordings.train.crops_per_epoch": 8,
                   "recordings.bootstrap": 100}
