"""Recognition's parts: the classes a clip gets, the inputs the networks read, the networks,
and what the stage reports about clips it cannot score."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from apexspot.clips.manifest import Clip
from apexspot.core.errors import ApexspotError
from apexspot.recognition import clips as rc
from apexspot.recognition import networks
from apexspot.recognition.classes import CLASSES
from apexspot.recognition.recordings import left_out
from apexspot.recordings.recording import Interval


def clip(clip_id: str, emotion: str, dataset: str = "casme2", row: int = 2, apex: int = 12) -> Clip:
    return Clip(clip_id, "s1", dataset, clip_id, 10, apex, 20, 11, "", "", emotion, "", "", "sheet.xlsx", row)


def test_an_emotion_the_scheme_does_not_map_is_reported_with_its_sheet_and_row() -> None:
    kept, out = rc.labels([clip("a", "happiness"), clip("b", "others", row=7), clip("c", "Fear", "samm", row=9)],
                          "composite")
    assert kept == {"a": "positive", "c": "negative"}
    assert out == [{"clip_id": "b", "dataset": "casme2", "sheet": "sheet.xlsx", "row": 7, "emotion": "others",
                    "reason": out[0]["reason"]}] and "'others' is not one of" in out[0]["reason"]
    assert "sheet.xlsx row 7" in rc.left_out_lines(out)
    kept, out = rc.labels([clip("a", "fear"), clip("b", "others")], "casme2")  # CASME II's five classes
    assert kept == {"b": "others"} and out[0]["clip_id"] == "a"


def test_a_recording_interval_without_a_composite_class_is_reported_with_its_row() -> None:
    intervals = [Interval("r1", 10, 12, 20, "micro", "12", "positive", "code.xlsx", 3),
                 Interval("r1", 40, 42, 50, "macro", "4", "others", "code.xlsx", 4),
                 Interval("r2", 40, 42, 50, "macro", "", "", "lv.xlsx", 5)]
    got = left_out(intervals, {"r1": "casme_sq", "r2": "samm_lv"})
    assert [(g["sheet"], g["row"]) for g in got] == [("code.xlsx", 4), ("lv.xlsx", 5)]


def test_the_flow_near_the_coded_apex_and_at_the_spotted_one() -> None:
    flow = np.arange(11, dtype=np.float16)[:, None, None, None] * np.ones((11, 4, 4, 3), np.float16)
    got = rc.clip_flow(flow, clip("a", "happiness", apex=11), spotted_apex=19, jitter=2)
    assert got.coded[:, 0, 0, 0].tolist() == [0, 0, 1, 2, 3] and got.at_coded[0, 0, 0] == 1  # clipped at the onset
    assert got.spotted[0, 0, 0] == 9 and got.coded.dtype == np.float32


def test_mirroring_flips_columns_and_negates_u_only() -> None:
    x = np.random.default_rng(0).normal(size=(2, 5, 5, 3)).astype(np.float32)
    m = rc.mirrored(x, ["u", "v", "magnitude"])
    assert np.array_equal(m[:, :, 0, 0], -x[:, :, 4, 0]) and np.array_equal(m[:, :, 0, 1:], x[:, :, 4, 1:])


def test_ststnet_reads_strain_u_and_v_at_28_and_is_as_the_paper_draws_it() -> None:
    x = np.zeros((1, 75, 75, 3), np.float32)
    x[0, :, :, 0] = np.linspace(0, 3, 75)[None, :]  # u growing to the right: strain exx = 3/74 per px everywhere
    s = rc.stst_input(x, ["u", "v", "magnitude"])
    assert s.shape == (1, 28, 28, 3) and np.allclose(s[0, 5:-5, 5:-5, 0], 3 / 74, rtol=0.05)
    assert np.allclose(s[0, ..., 2], 0)
    with pytest.raises(ApexspotError, match="flow.channels"):
        rc.stst_input(x, ["magnitude", "strain", "v"])
    model = networks.ststnet(3)
    joined = next(layer for layer in model.layers if layer.__class__.__name__ == "Concatenate")
    assert tuple(joined.output.shape[1:]) == (10, 10, 16)  # 3 + 5 + 8 maps after 3 x 3 pooling, stride 3
    assert model.layers[-1].kernel.shape == (400, 3)  # 5 x 5 x 16 after 2 x 2 average pooling


def test_our_classifier_learns_where_on_the_face_the_motion_is() -> None:
    """Brow raise (upward flow high on the face) against lip corner pull (low): told apart on
    faces it never saw, whatever the amplitude."""
    rng = np.random.default_rng(0)

    def faces(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(0, 2, n)
        x = rng.normal(scale=0.05, size=(n, 75, 75, 3)).astype(np.float32)
        for i, label in enumerate(y):
            row = 15 if label == 0 else 55
            x[i, row - 5:row + 5, 20:55, 1] -= rng.uniform(0.3, 3.0)  # upward flow: v < 0
        return x, y.astype(np.int32)

    x, y = faces(64)
    model = networks.fit(networks.flow_classifier(75, 3, 2), x, y, epochs=15, batch_size=16, learning_rate=0.003)
    test_x, test_y = faces(40)
    best = networks.probabilities(model, test_x).argmax(1)
    assert (best == test_y).mean() >= 0.9


def test_scores_use_only_clips_with_a_class_and_a_prediction() -> None:
    table = pd.DataFrame([
        {"subject": "s1", "dataset": "casme2", "truth": "positive", "ours_spotted": "positive", "ours_coded": "positive",
         "ststnet_spotted": "negative", "ststnet_coded": "positive", "majority_any": "negative"},
        {"subject": "s2", "dataset": "casme2", "truth": "negative", "ours_spotted": "negative", "ours_coded": "negative",
         "ststnet_spotted": "negative", "ststnet_coded": "negative", "majority_any": "negative"},
        {"subject": "s3", "dataset": "casme2", "truth": "", "ours_spotted": "surprise", "ours_coded": "surprise",
         "ststnet_spotted": "surprise", "ststnet_coded": "surprise", "majority_any": "negative"},  # left out
        {"subject": "s4", "dataset": "casme2", "truth": "surprise", "ours_spotted": "", "ours_coded": "",
         "ststnet_spotted": "", "ststnet_coded": "", "majority_any": ""},  # its fold had nothing to train on
    ])
    got = rc.headline(table, CLASSES["composite"], 200, 0)
    assert got["scored_clips"] == 2 and got["ours_spotted_uf1"] == 1.0 and got["majority_any_uar"] == 0.5
    assert got["ours_minus_majority_uar"] == 0.5 and got["spotted_minus_coded_uf1"] == 0.0
    with pytest.raises(ApexspotError, match="no held-out clip"):
        rc.headline(table.iloc[2:], CLASSES["composite"], 200, 0)



def test_the_real_sheets_give_the_composite_sets_counts(reference) -> None:
    """MEGC 2019's composite set has 133 SAMM clips (92 negative, 26 positive, 15 surprise):
    ingest skips two negative ones whose apex lies outside their window (028_4_1, 032_3_1).
    CASME II's 20140508 sheet gives 89 negative (one more is skipped: sub04 EP12_01f has no
    apex) where MEGC 2019 lists 88, and 32 positive and 25 surprise, as MEGC 2019 does."""
    from collections import Counter

    from apexspot.clips import casme2, samm

    counts = {}
    for name, verdicts in (("samm", samm.read(reference / "SAMM_Micro_FACS_Codes_v2.xlsx")),
                           ("casme2", casme2.read(reference / "CASME2-coding-20140508.xlsx"))):
        kept, out = rc.labels(verdicts.kept, "composite")
        counts[name] = Counter(kept.values())
        assert all(r["sheet"].endswith(".xlsx") and r["row"] > 1 and r["reason"] for r in out)
    assert counts["samm"] == {"negative": 90, "positive": 26, "surprise": 15}
    assert counts["casme2"] == {"negative": 89, "positive": 32, "surprise": 25}
