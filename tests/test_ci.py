"""The GPU CI workflow: linted, forks kept off the GPU runner, and its steps run as the runner would."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from project import ENV, ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "gpu.yml"
BIN = Path(sys.executable).parent  # actionlint and shellcheck come as wheels in the test extra
SCRIPTS = [ROOT / "gpu" / "repro.sh", ROOT / "gpu" / "venv.sh", ROOT / "gpu" / "compare.sh", ROOT / ".ci" / "run"]


@pytest.fixture
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def tool(name: str) -> str:
    path = BIN / name
    assert path.exists(), f"{name} is missing: install the test extra (pip install -e '.[test]')"
    return str(path)


def test_actionlint_finds_nothing() -> None:
    # shellcheck on PATH: actionlint then also checks every `run:` script with it
    env = {**ENV, "PATH": f"{BIN}{os.pathsep}{ENV['PATH']}"}
    tool("shellcheck")
    done = subprocess.run([tool("actionlint"), "-config-file", str(ROOT / ".github" / "actionlint.yaml"),
                           str(WORKFLOW)], capture_output=True, text=True, cwd=ROOT, env=env)
    assert done.returncode == 0, done.stdout + done.stderr


def test_shellcheck_finds_nothing() -> None:
    done = subprocess.run([tool("shellcheck"), *map(str, SCRIPTS)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_triggers_concurrency_and_timeouts(workflow: dict) -> None:
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert set(on) == {"pull_request", "push", "workflow_dispatch"}
    assert on["push"]["branches"] == ["main"]
    assert set(on["workflow_dispatch"]["inputs"]) == {"variants", "overrides"}
    assert workflow["concurrency"]["cancel-in-progress"] is True and "github.ref" in workflow["concurrency"]["group"]
    for name, job in workflow["jobs"].items():
        assert 0 < job["timeout-minutes"] <= 240, name


def test_only_trusted_work_reaches_the_gpu_runner(workflow: dict) -> None:
    jobs = workflow["jobs"]
    assert jobs["plan"]["runs-on"] == "ubuntu-latest" and jobs["compare"]["runs-on"] == "ubuntu-latest"
    for name in ("repro", "ablate"):
        assert jobs[name]["runs-on"] == ["self-hosted", "gpu"]
        assert "needs.plan.outputs.trusted == 'true'" in jobs[name]["if"], name
    # No ${{ }} inside a script: event fields reach scripts as environment variables only.
    for job in jobs.values():
        for step in job["steps"]:
            assert "${{" not in step.get("run", ""), step


def test_the_matrix_always_reports(workflow: dict) -> None:
    compare = workflow["jobs"]["compare"]
    assert compare["if"].startswith("always()") and compare["needs"] == ["plan", "ablate"]
    assert workflow["jobs"]["ablate"]["strategy"]["fail-fast"] is False


# ------------------------------------------------------------------ the steps, run as the runner would


def expand(text: str, context: dict[str, str]) -> str:
    """${{ name }} -> context[name]; an expression the test does not know fails it."""
    return re.sub(r"\$\{\{\s*(.+?)\s*\}\}", lambda m: context[m.group(1)], str(text))


def condition(text: str | None, context: dict[str, str]) -> bool:
    """The small part of GitHub's `if:` language the workflow uses: always(), ==, !=, &&."""
    if text is None:
        return True
    result = True
    for term in (t.strip() for t in text.split("&&")):
        if term == "always()":
            continue
        left, op, right = re.fullmatch(r"(.+?)\s*(==|!=)\s*'(.*)'", term).groups()
        value = context[left.strip()]
        result &= (value == right) if op == "==" else (value != right)
    return result


def run_job(workflow: dict, name: str, context: dict[str, str], cwd: Path, env: dict[str, str],
            tmp: Path) -> dict[str, str]:
    """Run a job's `run:` steps in order, as bash -eo pipefail with the workflow's env, the
    job's and the step's; `uses:` steps (GitHub's own actions) are skipped. Returns the outputs
    written to $GITHUB_OUTPUT."""
    job = workflow["jobs"][name]
    files = {k: tmp / f"{name}.{k}" for k in ("GITHUB_OUTPUT", "GITHUB_PATH", "GITHUB_STEP_SUMMARY")}
    for f in files.values():
        f.write_text("")
    path = env["PATH"]
    for step in job["steps"]:
        if "run" not in step or not condition(step.get("if"), context):
            continue
        step_env = {**workflow.get("env", {}), **job.get("env", {}), **step.get("env", {})}
        added = [line for line in files["GITHUB_PATH"].read_text().splitlines() if line]
        full = {**env, **{k: str(v) for k, v in files.items()}, "PATH": ":".join([*reversed(added), path]),
                **{k: expand(v, context) for k, v in step_env.items()}}
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=cwd,
                              env=full, capture_output=True, text=True)
        assert done.returncode == 0, f"{name}: {step.get('name', step['run'][:40])} failed:\n{done.stdout}\n{done.stderr}"
    outputs = dict(line.split("=", 1) for line in files["GITHUB_OUTPUT"].read_text().splitlines() if "=" in line)
    return outputs


def context_for(event: str, head_repo: str = "lab/apexspot", variants: str = "") -> dict[str, str]:
    return {"vars.APEXSPOT_DATA": "", "vars.DVC_CACHE_DIR": "", "vars.APEXSPOT_HOME": "", "vars.APEXSPOT_VENV": "",
            "inputs.variants": variants, "inputs.overrides": "", "github.event_name": event,
            "github.event.pull_request.head.repo.full_name": head_repo if event == "pull_request" else "",
            "github.repository": "lab/apexspot", "github.token": "token", "github.event.pull_request.number": "7",
            "github.workflow": "gpu", "github.ref": "refs/heads/x"}


@pytest.mark.parametrize("event, head_repo, variants, trusted, listed", [
    ("push", "", "", "true", "[]"),
    ("pull_request", "lab/apexspot", "", "true", "[]"),
    ("pull_request", "someone/apexspot", "", "false", "[]"),
    ("workflow_dispatch", "", "bn3 clip", "true", '["bn3", "clip"]'),
])
def test_plan_keeps_fork_pull_requests_off_the_runner(workflow, tmp_path, event, head_repo, variants, trusted,
                                                       listed) -> None:
    outputs = run_job(workflow, "plan", context_for(event, head_repo, variants), tmp_path, dict(ENV), tmp_path)
    assert outputs == {"trusted": trusted, "variants": listed}


def test_compare_job_marks_legs_that_left_no_report(workflow, tmp_path) -> None:
    import shutil

    shutil.copytree(ROOT / "gpu", tmp_path / "gpu")
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "report-bn3.md").write_text("## apexspot: apex MAE (frames), data: synthetic\n")
    context = context_for("workflow_dispatch", variants="bn3 clip")
    context["join(fromJSON(needs.plan.outputs.variants), ' ')"] = "bn3 clip"
    run_job(workflow, "compare", context, tmp_path, dict(ENV), tmp_path)
    summary = (tmp_path / "compare.GITHUB_STEP_SUMMARY").read_text()
    assert "| bn3 | ok (below) |" in summary and "| clip | **failed**: no report" in summary
    assert "### bn3" in summary and "### clip" not in summary
