"""Decoding per-step probabilities into intervals, on hand-made tracks."""

from __future__ import annotations

import numpy as np

from apexspot.recordings.intervals import decode

RATE = FPS = 30.0  # one step per frame
THRESHOLDS = {"micro": 0.5, "macro": 0.5}


def spotted(macro: np.ndarray, usable: np.ndarray | None = None, min_s: float = 0.3) -> list[tuple[int, int, int]]:
    probs = np.stack([np.zeros_like(macro), macro], 1)
    usable = np.ones(len(macro), bool) if usable is None else usable
    found = decode(probs, np.arange(len(macro)), usable, len(macro), RATE, FPS, THRESHOLDS,
                   {"micro": 0.1, "macro": min_s}, smooth_s=0.0)
    return [(s.onset, s.apex, s.offset) for s in found if s.kind == "macro"]


def test_a_dip_shorter_than_the_shortest_expression_does_not_split_it() -> None:
    track = np.zeros(100)
    track[20:50], track[53:70] = 0.9, 0.7
    track[40] = 1.0  # the apex
    track[50:53] = 0.35  # 3 steps (0.1 s) below threshold, shorter than the 0.3-s shortest kept
    assert spotted(track) == [(20, 40, 69)]


def test_a_gap_as_long_as_an_expression_keeps_two_intervals() -> None:
    track = np.zeros(100)
    track[20:40], track[50:70] = 0.9, 0.8
    assert spotted(track) == [(20, 20, 39), (50, 50, 69)]


def test_a_dip_where_the_face_is_lost_is_never_bridged() -> None:
    track = np.zeros(100)
    track[20:70] = 0.9
    usable = np.ones(100, bool)
    usable[50:53] = False
    assert spotted(track, usable) == [(20, 20, 49), (53, 53, 69)]


def test_a_run_shorter_than_the_shortest_expression_is_dropped() -> None:
    track = np.zeros(100)
    track[20:25] = 0.9  # 5 steps: 0.17 s
    assert spotted(track) == []


def test_a_micro_run_longer_than_half_a_second_is_cut_around_its_apex() -> None:
    micro = np.zeros(100)
    micro[10:60] = 0.6
    micro[40] = 0.9
    probs = np.stack([micro, np.zeros(100)], 1)
    found = decode(probs, np.arange(100), np.ones(100, bool), 100, RATE, FPS, THRESHOLDS,
                   {"micro": 0.1, "macro": 0.3}, smooth_s=0.0)
    assert [(s.kind, s.onset, s.apex, s.offset) for s in found] == [("micro", 33, 40, 47)]
