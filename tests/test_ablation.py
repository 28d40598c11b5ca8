"""The ablation table read back from `dvc.api.exp_show` rows."""

from __future__ import annotations

import pytest

from apexspot.ablation import markdown_table, result
from apexspot.core.errors import ApexspotError


def row(name: str, mae: float, low: float, high: float, verdict: str) -> dict:
    m = "metrics/mae.json:"
    return {"Experiment": name, "State": None, f"{m}model.mae": mae, f"{m}model.ci_low": mae - 1,
            f"{m}model.ci_high": mae + 1, f"{m}model.median_ae": 3.0, f"{m}model.within_5": 0.6,
            f"{m}centre.mae": 8.5, f"{m}centre.ci_low": 7.5, f"{m}centre.ci_high": 9.5,
            f"{m}diff.mean": mae - 8.5, f"{m}diff.ci_low": low,
            f"{m}diff.ci_high": high, f"{m}diff.verdict": verdict}


def test_table_has_a_row_per_variant_its_interval_verdict_and_the_centre() -> None:
    rows = {"ablate-bn3": row("ablate-bn3", 12.0, 1.0, 5.5, "worse"),
            "ablate-clip": row("ablate-clip", 4.0, -5.5, -3.5, "better"),
            "someone-else": row("someone-else", 1.0, -9, -7, "better")}
    table, failed = markdown_table(rows, ["bn3", "clip"])
    lines = table.splitlines()
    assert failed == []
    assert lines[2] == "| bn3 | 15.88 | 12.00 [11.00, 13.00] | 3.0 | 0.60 | +3.50 [+1.00, +5.50] | significantly worse |"
    assert lines[3] == "| clip |  | 4.00 [3.00, 5.00] | 3.0 | 0.60 | -4.50 [-5.50, -3.50] | significantly better |"
    assert lines[4] == "| centre of window (baseline) | | 8.50 [7.50, 9.50] | | | 0 | |"


def test_a_row_without_metrics_is_no_result() -> None:
    assert result({"Experiment": "ablate-x", "State": None}) is None
    assert result({"Experiment": "ablate-x", "State": "Running", "metrics/mae.json:model.mae": 3.0}) is None


def test_results_are_read_from_the_commit_the_queue_was_made_on(monkeypatch) -> None:
    """A commit made while the queue runs moves HEAD; the experiments belong to the old one."""
    import dvc.api
    import pytest

    from apexspot import ablation
    from apexspot.core.errors import ApexspotError

    asked = []
    heads = iter(["queued-on", "committed-later"])
    monkeypatch.setattr(ablation, "head", lambda: next(heads))
    monkeypatch.setattr(ablation, "dvc", lambda *args: 0)
    monkeypatch.setattr(dvc.api, "exp_show", lambda **kw: asked.append(kw) or [
        row("ablate-bn3", 12.0, 1.0, 5.5, "worse")] if kw.get("revs") == ["queued-on"] else [])
    assert "| bn3 | 15.88 | 12.00" in ablation.run(["bn3"], [], 1)
    assert asked and all(kw == {"revs": ["queued-on"]} for kw in asked)
    with pytest.raises(ApexspotError):  # and a variant with no row there is reported as failed
        ablation.run(["bn4"], [], 1)


def row_of_state(name: str, state: str | None, mae: float | None) -> dict:
    figures = {} if mae is None else {
        "metrics/mae.json:model.mae": mae, "metrics/mae.json:model.ci_low": mae - 1,
        "metrics/mae.json:model.ci_high": mae + 1, "metrics/mae.json:model.median_ae": 2.0,
        "metrics/mae.json:model.within_5": 0.7, "metrics/mae.json:centre.mae": 9.0,
        "metrics/mae.json:centre.ci_low": 8.0, "metrics/mae.json:centre.ci_high": 10.0,
        "metrics/mae.json:diff.mean": mae - 9.0, "metrics/mae.json:diff.ci_low": mae - 10,
        "metrics/mae.json:diff.ci_high": mae - 8, "metrics/mae.json:diff.verdict": "better"}
    return {"Experiment": name, "State": state, **figures}


def test_a_failed_experiment_is_reported_failed_never_with_other_numbers() -> None:
    # A failed experiment's row can carry its baseline commit's metrics; it must not be shown.
    rows = {"ablate-bn3": row_of_state("ablate-bn3", "Failed", 11.11), "ablate-clip": row_of_state("ablate-clip", None, 4.0)}
    table, failed = markdown_table(rows, ["bn3", "bn4", "clip"])
    lines = table.splitlines()
    assert failed == ["bn3", "bn4"]
    assert lines[2] == "| bn3 | 15.88 | **failed** (no result) | | | | |" and "11.11" not in table
    assert lines[4].startswith("| clip |  | 4.00 [3.00, 5.00] |") and "significantly better" in lines[4]


def test_recordings_table_has_a_row_per_setting_and_the_baseline() -> None:
    from apexspot.ablation import recording_name, recordings_table

    def row(micro: float) -> dict:
        keys = {f"metrics/recordings/f1.json:{k}_f1{s}": micro for k in ("micro", "macro", "overall")
                for s in ("", "_ci_low", "_ci_high")}
        return keys | {"metrics/recordings/f1.json:micro_f1_minus_flow_peaks": micro - 0.1,
                       "metrics/recordings/f1.json:micro_f1_minus_flow_peaks_ci_low": micro - 0.2,
                       "metrics/recordings/f1.json:micro_f1_minus_flow_peaks_ci_high": micro,
                       "metrics/recordings/f1.json:flow_peaks_micro_f1": 0.1, "State": "Success"}

    settings = ["params.yaml as it is", "recordings.spotter.width=16", "recordings.train.epochs=5"]
    assert recording_name(settings[1]) == "ablate-rec-spotter.width-16"
    rows = {recording_name(settings[0]): row(0.5), recording_name(settings[1]): row(0.4),
            recording_name(settings[2]): {"State": "Failed"}}
    table, failed = recordings_table(rows, settings)
    lines = table.splitlines()
    assert lines[2].startswith("| params.yaml as it is | 0.500 [0.500, 0.500]") and "+0.400 [+0.300, +0.500]" in lines[2]
    assert lines[3].startswith("| recordings.spotter.width=16 | 0.400")
    assert "**failed**" in lines[4] and failed == ["recordings.train.epochs=5"]
    assert lines[5] == "| flow-magnitude peaks (baseline) | 0.100 | | | 0 |"


def test_recordings_settings_are_queued_on_the_long_recording_pipeline(monkeypatch) -> None:
    import dvc.api

    from apexspot import ablation

    calls = []
    monkeypatch.setattr(ablation, "head", lambda: "queued-on")
    monkeypatch.setattr(ablation, "dvc", lambda *args: calls.append(args) or 0)
    monkeypatch.setattr(dvc.api, "exp_show", lambda **kw: [])
    # no experiment produced a row here: both are reported failed, by name
    with pytest.raises(ApexspotError, match=r"2 experiment\(s\) failed: params.yaml as it is, "
                                            r"recordings.spotter.width=16"):
        ablation.run_recordings(["recordings.spotter.width=16"], ["recordings.train.epochs=2"], 1)
    queued = [c for c in calls if c[:2] == ("exp", "run") and "--queue" in c]
    assert queued[0] == ("exp", "run", "--queue", "-n", "ablate-rec-params", "recordings/dvc.yaml",
                         "-S", "recordings.train.epochs=2")
    assert queued[1] == ("exp", "run", "--queue", "-n", "ablate-rec-spotter.width-16", "recordings/dvc.yaml",
                         "-S", "recordings.spotter.width=16", "-S", "recordings.train.epochs=2")
