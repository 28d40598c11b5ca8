"""Pictures of a dataset's subjects stay out of git.

CASME II and SAMM licences forbid redistributing the faces, and a git remote is often
public. What the pipeline writes with faces in it is DVC-cached (aligned frames, flow
previews, the evaluation's pictures); what the CLI writes (exports, spot's picture) must go
to a folder git ignores (`exports/` in this project) or outside the repository.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from apexspot.core.errors import ApexspotError

EXPORTS = Path("exports")  # git-ignored in this project (.gitignore)


def refuse_if_git_would_add(path: str | Path, what: str) -> None:
    """Stop before writing `path` if it lies inside a git work tree and git does not ignore
    it: one `git add -A` would then commit pictures of faces."""
    path = Path(path).resolve()
    parent = next((p for p in (path, *path.parents) if p.is_dir()), None)
    if parent is None:
        return
    try:
        top = subprocess.run(["git", "-C", str(parent), "rev-parse", "--show-toplevel"], capture_output=True,
                             text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):  # no git on this machine: nothing could commit it
        return
    if top.returncode != 0:
        return  # not inside a git work tree
    ignored = subprocess.run(["git", "-C", top.stdout.strip(), "check-ignore", "-q", str(path)], capture_output=True,
                             timeout=30)
    if ignored.returncode != 0:
        raise ApexspotError(f"{path}: inside the git repository {top.stdout.strip()} and not ignored by git, so "
                            f"`git add` would commit {what} (faces of the dataset's subjects, which its licence "
                            f"forbids sharing); write it under {EXPORTS}/ (ignored) or outside the repository")
