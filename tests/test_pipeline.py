"""End to end: `dvc repro` through the stages in a temporary git+DVC copy, on a tiny dataset.

The module's project is made and reproduced once by its fixture; every test starts from that
run and leaves the workspace as it found it (experiments run with --temp), so the tests pass
in any order."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from project import ENV, ROOT, TINY, Project

from apexspot.core import arrayfiles


def ran(output: str) -> set[str]:
    return set(re.findall(r"Running stage '([\w-]+)'", output))


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    project = Project(tmp_path_factory.mktemp("pipeline") / "proj")
    project.set_params(**TINY)
    project.commit("tiny")
    project.first_run = project.dvc("repro")
    project.commit("first run")
    return project


def experiment(project: Project, name: str, *sets: str) -> None:
    """A named experiment, run once in a temporary copy (the workspace stays as it is)."""
    listed = project.dvc("exp", "list", "--name-only").stdout.split()
    if name not in listed:
        project.dvc("exp", "run", "--temp", "-n", name, *[a for s in sets for a in ("-S", s)])


def test_repro_runs_every_stage(project: Project) -> None:
    done = project.first_run
    assert {"ingest", "face-align", "flow", "fold-split", "train", "evaluate", "recognise"} <= ran(done.stdout)
    # A quiet console: no TensorFlow start-up lines, no Keras warnings, progress as whole lines
    # (the output is a pipe here, as in a CI log).
    output = done.stdout + done.stderr
    for noise in ("absl", "cuda", "cpu_feature_guard", "UserWarning", "structure of `inputs`", "\r"):
        assert noise not in output, noise
    assert "evaluate: 100%" in done.stderr and "face-align: 100%" in done.stderr
    report = json.loads((project.path / "data/face_align_report.json").read_text())
    assert report["produced"] == 2 and report["skipped"] == [] and report["detectors"] == {"mtcnn": 2}
    record = json.loads((project.path / "data/face_align_clips.json").read_text())
    assert record["clips"] == json.loads((project.path / "data/flow_clips.json").read_text())["clips"]
    assert len(record["clips"]) == 2 and record["skipped"] == []
    for clip in ("synthetic/sub01", "synthetic/sub02"):
        [aligned] = (project.path / "data/aligned" / clip).glob("*.npz")
        frames = arrayfiles.load(aligned)["frames"]
        assert frames.shape[1:] == (128, 128) and frames.dtype == np.uint8
        flow = arrayfiles.load(project.path / "data/flow" / clip / aligned.name)["flow"]
        assert flow.shape == (len(frames), 75, 75, 3) and flow.dtype == np.float16
        assert np.all(flow[0] == 0) and np.abs(flow[1:]).max() > 0
    assert len(list((project.path / "data/flow_preview").glob("*.png"))) == 2


def test_train_writes_a_model_and_a_dvclive_log_per_fold(project: Project) -> None:
    folds = json.loads((project.path / "data/folds.json").read_text())
    assert folds["k"] == 2 and sorted(folds["subjects"]) == ["synthetic-01", "synthetic-02"]
    assert sorted(folds["identities"]) == ["synthetic-astronaut", "synthetic-grace_hopper"]
    assert sorted(p.name for p in (project.path / "models").iterdir()) == [
        "environment.json", "fold_0.json", "fold_0.keras", "fold_1.json", "fold_1.keras", "params.yaml"]
    kept = yaml.safe_load((project.path / "models/params.yaml").read_text())
    assert kept["flow"]["size"] == 75 and kept["face"]["size"] == 128 and kept["variant"] == "clip"
    assert kept["recordings"] == {"track": project.params()["recordings"]["track"]}  # the follower `spot` runs
    assert kept["train"]["clip"]["epochs"] == 1 and kept["variants"]["clip"]["width"] == 8 and "frame" not in kept["train"]
    record = json.loads((project.path / "models/fold_0.json").read_text())
    assert record["variant"]["kind"] == "clip" and record["prior"]["clips"] == 1  # the other fold's clip only
    for k in (0, 1):
        log = project.path / f"metrics/train/fold_{k}"
        assert len((log / "plots/metrics/train/loss.tsv").read_text().splitlines()) == 2  # header + 1 epoch
        params = yaml.safe_load((log / "params.yaml").read_text())
        assert params["variant"] == "clip" and params["fold"] == k and "device" not in params  # git-tracked
        # exactly what it ran with: the clip recipe of params.yaml, no setting of the other kind
        assert params["train"]["clip"] == {**project.params()["train"]["clip"], "epochs": 1}
        assert "frame" not in params["train"] and params["variants"] == {"clip": project.params()["variants"]["clip"]}
        ran_on = json.loads((project.path / "models/environment.json").read_text())  # the machine: DVC-cached
        assert ran_on["precision"] == "float32" and ran_on["device"] == "CPU" and ran_on["tensorflow"]
        loss = pd.read_csv(project.path / f"metrics/loss/fold_{k}.csv")
        assert list(loss.columns) == ["epoch", "train", "held_out"] and loss["epoch"].tolist() == [1]
        live = json.loads((log / "metrics.json").read_text())
        assert loss.loc[0, "train"] == pytest.approx(live["train"]["loss"], rel=1e-5)
    # dvclive's summaries, averaged over the folds, are the train stage's metrics (dvc exp show).
    summary = json.loads((project.path / "metrics/train.json").read_text())
    assert summary["epochs"] == 1 and summary["folds"] == 2
    folds = [json.loads((project.path / f"metrics/train/fold_{k}/metrics.json").read_text()) for k in (0, 1)]
    assert summary["eval"]["loss"] == pytest.approx(np.mean([f["eval"]["loss"] for f in folds]))


def test_evaluate_writes_metrics_for_model_and_baselines(project: Project) -> None:
    mae = json.loads((project.path / "metrics/mae.json").read_text())
    assert mae["clips"] == 2 and mae["subjects"] == 2
    assert set(mae["model"]) == {"mae", "ci_low", "ci_high", "median_ae", "within_5", "within_10"}
    assert set(mae["diff"]) == {"mean", "ci_low", "ci_high", "ratio", "verdict"}
    for name in ("model", "centre", "prior", "max_flow", "max_strain", "max_lbp"):
        assert mae[name]["ci_low"] <= mae[name]["mae"] <= mae[name]["ci_high"]
    # Headline numbers only: no per-fold, per-dataset or per-emotion figure, nothing nested deeper.
    assert list(mae)[:2] == ["model", "diff"]
    assert all(not isinstance(v, dict) for f in mae.values() if isinstance(f, dict) for v in f.values())
    predictions = pd.read_csv(project.path / "metrics/predictions.csv", keep_default_na=False)
    assert list(predictions.columns[:11]) == ["clip_id", "subject", "identity", "dataset", "fold", "onset", "offset",
                                              "apex", "emotion", "action_units", "objective_class"]
    assert len(predictions) == 2 and set(predictions["emotion"]) <= {"happiness", "surprise", "disgust", "repression",
                                                                      "others", "fear", "sadness"}
    per_fold = pd.read_csv(project.path / "metrics/mae_per_fold.csv")
    assert per_fold["fold"].tolist() == [0, 1] and per_fold["clips"].tolist() == [1, 1]
    folds = json.loads((project.path / "metrics/folds.json").read_text())
    assert list(folds) == ["fold_0", "fold_1"] and folds["fold_0"]["clips"] == 1
    assert folds["fold_1"]["model"] == pytest.approx(per_fold.loc[1, "model"])
    assert folds["fold_1"]["centre"] == pytest.approx(per_fold.loc[1, "centre"])
    shown = json.loads(project.dvc("metrics", "show", "--json").stdout)
    assert "fold_1" in json.dumps(shown) and '"model"' in json.dumps(shown)  # dvc metrics show lists them
    per_dataset = pd.read_csv(project.path / "metrics/mae_per_dataset.csv")
    assert per_dataset.loc[0, "model"] == pytest.approx(mae["model"]["mae"])
    per_emotion = pd.read_csv(project.path / "metrics/mae_per_emotion.csv")
    assert per_emotion["clips"].sum() == 2
    assert per_emotion["group"].str.startswith("synthetic: ").all()
    assert {p.name for p in (project.path / "metrics/plots").iterdir()} == {
        "score_curves.png", "error_distribution.png"}  # attention: frame variants only


def test_recognise_scores_every_predictor_with_intervals_and_keeps_a_classifier_per_fold(project: Project) -> None:
    figures = json.loads((project.path / "metrics/recognition.json").read_text())
    table = pd.read_csv(project.path / "metrics/recognition_predictions.csv", keep_default_na=False)
    assert len(table) == 2 and set(table["fold"]) == {0, 1}  # every held-out clip
    assert set(table["truth"]) <= {"negative", "positive", "surprise", ""}
    scored = table[table["truth"] != ""]
    assert figures["scored_clips"] == len(scored) and figures["classes"] == 3
    for name in ("ours_spotted", "ours_coded", "ststnet_spotted", "ststnet_coded", "majority_any"):
        for key in ("uf1", "uar"):
            assert 0 <= figures[f"{name}_{key}_ci_low"] <= figures[f"{name}_{key}"] <= figures[f"{name}_{key}_ci_high"] <= 1
    for name in ("ours_minus_majority", "ours_minus_ststnet", "spotted_minus_coded"):
        assert figures[f"{name}_uf1_ci_low"] <= figures[f"{name}_uf1"] <= figures[f"{name}_uf1_ci_high"]
    assert (table["spotted_apex"] == pd.read_csv(project.path / "metrics/predictions.csv").set_index("clip_id")
            .loc[table["clip_id"], "model"].to_numpy()).all()  # the evaluate stage's spotted apex
    assert sorted(p.name for p in (project.path / "recognisers").iterdir()) == [
        "fold_0.json", "fold_0.keras", "fold_1.json", "fold_1.keras"]
    report = json.loads((project.path / "metrics/recognition_report.json").read_text())
    assert report["scheme"] == "composite" and report["classes"] == ["negative", "positive", "surprise"]
    assert report["left_out"] == [] and report["folds_not_trained"] == []  # the tiny set: disgust and happiness
    assert sorted(scored["truth"]) == ["negative", "positive"]
    assert "recognise:" in project.first_run.stdout and "UF1" in project.first_run.stdout


def test_plots_show_renders_every_plot_without_a_warning(project: Project) -> None:
    done = project.dvc("plots", "show")  # into dvc_plots/, which git ignores (it holds the pictures)
    assert done.stderr.strip() == "" and "WARNING" not in done.stdout, done.stdout + done.stderr
    html = (project.path / "dvc_plots" / "index.html").read_text()
    for title in ("metrics/loss/fold_0.csv", "metrics/loss/fold_1.csv", "Apex position in the window",
                  "MAE per fold, the model beside", "MAE per dataset and emotion, the model beside", "score_curves.png",
                  "Emotion at the spotted apex against the coded one"):
        assert title in html, title
    assert "argument of type" not in html


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (.ci/run installs it)")
def test_plots_show_draws_every_chart_with_the_network_off(project: Project, tmp_path: Path) -> None:
    """The page `dvc plots show` writes carries Vega inline (.dvc/config names the template):
    a real headless browser with every connection refused draws each chart, without an error."""
    project.dvc("plots", "show")
    page = project.path / "dvc_plots" / "index.html"
    html = page.read_text()
    charts = html.count("vegaEmbed('#")
    assert charts == 2 + 4 and "cdn.jsdelivr" not in html  # a loss chart per fold, scatter, two bar charts, confusion and "<script src=\"http" not in html
    done = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                           "--disable-background-networking", "--disable-component-update", "--disable-sync",
                           f"--user-data-dir={tmp_path / 'profile'}", "--proxy-server=127.0.0.1:9",
                           "--host-resolver-rules=MAP * ~NOTFOUND", "--virtual-time-budget=20000",
                           "--enable-logging=stderr", "--v=0", "--dump-dom", page.as_uri()],
                          capture_output=True, text=True, timeout=120)
    drawn = done.stdout.count('class="marks"')  # vega-embed's canvas (or svg), one per chart
    console = [line for line in done.stderr.splitlines() if "CONSOLE" in line]
    errors = [line for line in console if "Uncaught" in line or "Error" in line or ":ERROR:" in line]
    assert drawn == charts, (drawn, charts, console[-5:])
    assert errors == [], errors


def test_second_repro_is_a_noop(project: Project) -> None:
    done = project.dvc("repro")
    assert ran(done.stdout) == set()
    assert project.status() == {}
    # Notes beside the datasets are not data (.dvcignore): editing them reruns nothing.
    with open(project.path / "data/raw/README.md", "a") as notes:
        notes.write("\nmy copy came from the lab's share\n")
    assert project.status() == {}


def test_changing_a_flow_param_does_not_rerun_face_align(project: Project) -> None:
    project.set_params(**{"flow.method": "dis"})
    try:
        done = project.dvc("repro")
        assert "flow" in ran(done.stdout) and not {"ingest", "face-align", "fold-split"} & ran(done.stdout)
        flow_report = json.loads((project.path / "data/flow_report.json").read_text())
        assert flow_report["params"]["method"] == "dis"
    finally:  # back to the first run (from DVC's run cache)
        project.run("git", "checkout", "params.yaml")
        project.dvc("repro")
    assert project.status() == {}


def test_an_experiment_with_another_variant_shows_both_maes(project: Project) -> None:
    experiment(project, "try-bn3", "variant=bn3")
    done = project.run(sys.executable, "-c", "import json, dvc.api; print(json.dumps(dvc.api.exp_show()))")
    rows = [r for r in json.loads(done.stdout) if r["Experiment"] != "workspace" and r.get("rev") != "workspace"]
    seen = {row["variant"]: row for row in rows if row.get("variant")}
    assert set(seen) == {"clip", "bn3"}, rows
    # the workspace's run is the clip model: its row is what metrics/mae.json says
    mae = json.loads((project.path / "metrics/mae.json").read_text())
    assert seen["clip"]["model.mae"] == mae["model"]["mae"] and seen["clip"]["diff.ci_high"] == mae["diff"]["ci_high"]
    assert seen["bn3"]["model.mae"] != seen["clip"]["model.mae"]  # another network, another error
    for row in seen.values():
        assert row["model.ci_low"] <= row["model.mae"] <= row["model.ci_high"] and row["epochs"] == 1
        assert row["eval.loss"] > 0  # dvclive's summary, from metrics/train.json


def test_the_readmes_exp_show_command_fits_a_terminal(project: Project) -> None:
    experiment(project, "try-bn3", "variant=bn3")
    [command] = [line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("dvc exp show --drop '.*'")]
    done = project.run(sys.executable, "-m", "dvc", *shlex.split(command)[1:])
    lines = [line.rstrip() for line in done.stdout.splitlines() if line.strip()]
    assert max(len(line) for line in lines) <= 120, done.stdout
    header = next(line for line in lines if "Experiment" in line).split()
    assert header[:3] == ["Experiment", "model.mae", "model.ci_low"], header
    assert any("try-bn3" in line for line in lines)
    [hide] = [line.split("#")[0] for line in (ROOT / "README.md").read_text().splitlines()
              if line.startswith("dvc exp show --drop '.*fold_")]
    shown = project.run(sys.executable, "-m", "dvc", *shlex.split(hide)[1:], "--csv").stdout
    header = shown.splitlines()[0]
    assert "fold_" not in header and "model.mae" in header, header
    everything = project.run(sys.executable, "-m", "dvc", "exp", "show", "--csv").stdout.splitlines()[0]
    assert "fold_0.model" in everything  # the per-fold MAE is tracked by dvc exp


def test_ablate_runs_variants_as_experiments_from_the_cache(project: Project) -> None:
    done = project.run(sys.executable, "-m", "apexspot.cli", "ablate", "bn3", "bn4")
    lines = done.stdout.splitlines()
    assert lines[0] == "| variant | paper MAE | MAE [95% CI] | median | within 5 | model − centre [95% CI] | vs centre |"
    assert lines[2].startswith("| bn3 | 15.88 | ") and lines[3].startswith("| bn4 | 15.57 | ")
    assert "failed" not in done.stdout
    assert lines[4].startswith("| centre of window (baseline) |")


def test_the_workflows_repro_job_runs_its_steps_as_the_runner_would(project: Project, tmp_path: Path) -> None:
    """The repro job's steps, in order, from the YAML, on the CPU: a push to main keeps its
    result as the base; a pull request's run is compared with it and posted (a fake `gh`)."""
    from test_ci import context_for, run_job

    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "gpu.yml").read_text())
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "gh").write_text('#!/bin/sh\necho "$@" > "$GH_LOG"\ncp "$5" "$GH_LOG.body"\n')
    (fake / "gh").chmod(0o755)
    env = {**ENV, "PATH": f"{fake}:{ENV['PATH']}", "GH_LOG": str(tmp_path / "gh.log")}
    context = context_for("push") | {"vars.APEXSPOT_VENV": sys.prefix, "vars.APEXSPOT_HOME": str(tmp_path / "home")}
    run_job(workflow, "repro", context, project.path, env, tmp_path)
    kept = tmp_path / "home" / "results" / "synthetic" / "mae.json"
    assert json.loads(kept.read_text()) == json.loads((project.path / "metrics" / "mae.json").read_text())
    assert not (tmp_path / "gh.log").exists()  # a push posts nothing

    run_job(workflow, "repro", context | {"github.event_name": "pull_request",
                                          "github.event.pull_request.head.repo.full_name": "lab/apexspot"},
            project.path, env, tmp_path)
    assert (tmp_path / "gh.log").read_text().split() == ["pr", "comment", "7", "--body-file", "report.md"]
    report = (tmp_path / "gh.log.body").read_text()
    assert report.startswith("## apexspot: apex MAE (frames), data: synthetic")
    assert "### This run against the kept base run (same data, same runner)" in report
    assert "| model MAE [95% CI] |" in report and "### Experiments" in report


def test_ci_repro_script_runs_a_variant_as_an_experiment(project: Project) -> None:
    done = project.run("bash", "gpu/repro.sh", "--variants", "bn3", "--report", "report.md")
    report = (project.path / "report.md").read_text()
    assert report.startswith("## apexspot: apex MAE (frames), data: synthetic") and "### Experiments" in report
    assert "ci-bn3" in report and "model.mae" in report and "centre.mae" in report
    assert "wrote report.md" in done.stderr

def images_in(names: list[str]) -> list[str]:
    return [n for n in names if n.lower().endswith((".png", ".jpg", ".jpeg", ".npz", ".keras"))]


def test_no_picture_of_a_face_reaches_git(project: Project) -> None:
    """With the attention variant (whose plot overlays the mask on aligned faces) and an export:
    nothing git tracks, would add, or holds in the experiment's commit is an image."""
    experiment(project, "try-att", "variant=lrn5_att")
    committed = project.run("git", "ls-tree", "-r", "--name-only", exp_sha(project, "try-att")).stdout.splitlines()
    assert "metrics/mae.json" in committed and images_in(committed) == []
    project.run(sys.executable, "-m", "apexspot.cli", "export")  # the README's command: into exports/spotted
    assert len(list((project.path / "exports" / "spotted").glob("**/*_apex.png"))) == 2
    status = project.run("git", "status", "--porcelain", "--untracked-files=all").stdout.splitlines()
    assert images_in([line[3:] for line in status]) == [] and images_in(
        project.run("git", "ls-files").stdout.splitlines()) == []
    refused = project.run(sys.executable, "-m", "apexspot.cli", "export", "export", check=False)
    assert refused.returncode != 0 and "not ignored by git" in refused.stderr and not (project.path / "export").exists()


def test_an_experiment_goes_to_a_remote_with_its_models_and_comes_back_in_another_clone(
        project: Project, tmp_path: Path) -> None:
    experiment(project, "try-bn3", "variant=bn3")
    storage, origin, other = tmp_path / "dvc-remote", tmp_path / "origin.git", tmp_path / "other"
    project.run("git", "init", "-q", "--bare", str(origin))
    project.run("git", "push", "-q", str(origin), "HEAD:refs/heads/main")
    project.dvc("remote", "add", "--local", "-d", "shared", str(storage))
    project.dvc("push")
    project.dvc("exp", "push", str(origin), "try-bn3")
    expected = json.loads(project.run("git", "show", f"{exp_sha(project, 'try-bn3')}:metrics/mae.json").stdout)

    project.run("git", "clone", "-q", "-b", "main", str(origin), str(other))
    clone = Project.existing(other)
    clone.dvc("remote", "add", "--local", "-d", "shared", str(storage))
    clone.dvc("exp", "pull", str(origin), "try-bn3")
    clone.dvc("exp", "apply", "try-bn3")
    clone.dvc("checkout")
    assert sorted(p.name for p in (other / "models").glob("fold_*.keras")) == ["fold_0.keras", "fold_1.keras"]
    assert json.loads((other / "metrics" / "mae.json").read_text()) == expected
    assert clone.params()["variant"] == "bn3"
    record = json.loads((other / "models" / "fold_0.json").read_text())
    assert record["variant"]["kind"] == "frame" and record["variant"]["convs"] == 3


def exp_sha(project: Project, name: str) -> str:
    refs = project.run("git", "for-each-ref", "--format=%(objectname) %(refname)", "refs/exps").stdout.splitlines()
    [sha] = [line.split()[0] for line in refs if line.endswith(f"/{name}")]
    return sha


def test_the_offline_template_is_what_apexspot_writes_and_needs_no_network(tmp_path: Path) -> None:
    committed = (ROOT / ".dvc" / "offline-plots.html").read_text()
    assert "{plot_divs}" in committed and "window.vegaEmbed" in committed and "<script src=" not in committed
    done = subprocess.run([sys.executable, "-m", "apexspot.cli", "offline-plots", str(tmp_path / "t.html")],
                          capture_output=True, text=True, env=ENV, timeout=120)
    assert done.returncode == 0, done.stderr
    fresh = (tmp_path / "t.html").read_text()
    assert fresh.count("<script") == committed.count("<script") == 1 and abs(len(fresh) - len(committed)) < 50_000
