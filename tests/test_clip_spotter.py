"""Our clip spotter: the prior over apex positions, the padded batches, a training step on the CPU."""

from __future__ import annotations

import numpy as np
import pytest

from defaults import CHANNELS, clip_variant, train_params

from apexspot.clips.manifest import Clip
from apexspot.clips.spotters import spotter
from apexspot.clips.spotters.clip.batches import ClipBatches, PAD_TO, mirror, pooled, stretch
from apexspot.clips.spotters.clip.network import apex_loss, intensity_loss
from apexspot.clips.spotters.clip.prior import ApexPrior
from apexspot.clips.trained import TrainedFold
from apexspot.core import arrayfiles
from apexspot.core.folds import make_folds


def clip(i: int, onset: int, apex: int, offset: int, subject: str = "s1") -> Clip:
    return Clip(f"synthetic/{subject}/c{i}", subject, "synthetic", f"c{i}", onset, apex, offset,
                offset - onset + 1, "x", "img{frame}.jpg", "", "", "", "sheet", i + 2)


def test_prior_is_fitted_on_the_training_folds_only() -> None:
    """Moving every held-out apex must not change the prior of that fold."""
    clips = [clip(i, 0, 10 + i % 20, 60, subject=f"s{i % 6}") for i in range(36)]
    folds = make_folds(clips, "kfold", 3, 0)
    held = [c for c in clips if folds[c.identity] == 0]
    train = [c for c in clips if folds[c.identity] != 0]
    before = ApexPrior.fit(train)
    for c in held:
        c.apex = 59  # held-out apexes all at the end: a leak would drag the prior there
    after = ApexPrior.fit([c for c in clips if folds[c.identity] != 0])
    assert before == after
    leaked = ApexPrior.fit(clips)
    assert leaked.a / (leaked.a + leaked.b) > before.a / (before.a + before.b) + 0.1


def test_prior_is_a_distribution_that_peaks_where_apexes_fall() -> None:
    prior = ApexPrior.fit([clip(i, 0, 30 + i % 5, 100) for i in range(20)])
    p = np.exp(prior.log_prior(101))
    assert p.sum() == pytest.approx(1.0, abs=1e-5)
    assert 28 <= int(np.argmax(p)) <= 36 and p[0] > 0 and p[-1] > 0


def test_mirror_negates_u_and_stretch_moves_the_apex() -> None:
    flow = np.random.default_rng(0).random((20, 6, 6, 3)).astype(np.float32)
    m = mirror(flow, ["u", "v", "magnitude"])
    assert np.allclose(m[:, :, ::-1, 0], -flow[..., 0]) and np.allclose(m[:, :, ::-1, 1:], flow[..., 1:])
    longer, apex = stretch(flow, 10, 1.5)
    assert len(longer) == 29 and apex == 15 and np.array_equal(longer[0], flow[0])


@pytest.fixture
def flow_root(tmp_path):
    rng = np.random.default_rng(0)
    clips = []
    for i, (onset, apex, offset) in enumerate([(0, 12, 30), (5, 30, 45), (0, 8, 20), (10, 40, 70)]):
        c = clip(i, onset, apex, offset, subject=f"s{i}")
        flow = rng.normal(0, 0.1, (c.n_frames, 75, 75, 3)).astype(np.float16)
        flow[apex - onset, 30:40, 30:40] += 2.0
        arrayfiles.save(arrayfiles.clip_file(tmp_path, c.clip_id), flow=flow)
        clips.append(c)
    return tmp_path, clips


@pytest.mark.parametrize("augment", [False, True])
def test_batches_are_padded_to_their_longest_clip_with_masks_and_targets(flow_root, augment) -> None:
    root, clips = flow_root
    v = clip_variant()
    batches = ClipBatches(clips, root, ApexPrior.fit(clips), v, 1, ["u", "v", "magnitude"], shuffle=augment,
                          augment=augment)
    lengths = []
    for b in range(len(batches)):
        (x, mask, prior), (y, intensity) = batches[b]
        longest = int(mask.sum(axis=1).max())
        assert intensity.shape == y.shape and np.all((intensity == -1) == (mask == 0))  # -1: padding only
        assert np.all(intensity.max(axis=1) <= 1.0) and np.all(intensity.max(axis=1) >= 0.5)
        assert x.shape[1] % PAD_TO == 0 and x.shape[1] - PAD_TO < longest <= x.shape[1]
        assert x.shape[2:] == (25, 25, 3) and mask.shape == prior.shape == y.shape == x.shape[:2]
        for row in range(len(x)):
            n = int(mask[row].sum())
            assert y[row].sum() == pytest.approx(1.0, abs=1e-5) and np.all(y[row, n:] == 0)
            assert np.all(x[row, n:] == 0) and np.all(prior[row, n:] == 0)
        lengths.append(x.shape[1])
    # Keras' TensorFlow adapter takes the batch shape from the first two batches: they differ.
    assert len(set(lengths)) > 1 and lengths[0] != lengths[1]


@pytest.mark.parametrize("intensity_weight", [0.0, 0.5])
def test_clip_model_builds_trains_a_step_and_gives_a_posterior(flow_root, intensity_weight) -> None:
    root, clips = flow_root
    v = clip_variant(width=8, temporal_layers=2, intensity_weight=intensity_weight)
    s = spotter(v, CHANNELS)
    model = s.build((75, 75, 3))
    history = s.fit(model, clips, clips[:1], root, train_params(clip={"epochs": 1, "batch_size": 2}), [])
    assert np.isfinite(history.history["loss"][0]) and "val_loss" in history.history
    assert len(model.outputs) == (2 if intensity_weight else 1)
    assert s.prior == ApexPrior.fit(clips)  # fitted on the clips it trained on
    flow = arrayfiles.load(arrayfiles.clip_file(root, clips[3].clip_id))["flow"]
    p = s.score(model, flow)
    assert p.shape == (clips[3].n_frames,) and p.sum() == pytest.approx(1.0) and np.all(p >= 0)
    TrainedFold(model, s).save(root / "fold_0.keras")  # the trained, compiled model saves and loads back
    again = TrainedFold.load(root / "fold_0.keras")
    assert again.spotter.prior == s.prior and again.spotter.variant == v
    assert np.allclose(again.scores(flow), p, atol=1e-5)


def test_pooling_averages_blocks_and_normalises() -> None:
    flow = np.ones((10, 75, 75, 3), np.float32) * 3
    small = pooled(flow, clip_variant(pool=3))
    assert small.shape == (10, 25, 25, 3) and np.allclose(small, 1.0, atol=1e-3)
    raw = pooled(flow, clip_variant(normalise=False, pool=5))
    assert raw.shape == (10, 15, 15, 3) and np.allclose(raw, 3.0)


def test_intensity_loss_scores_valid_frames_only() -> None:
    target = np.array([[0.0, 0.5, 1.0, -1.0, -1.0], [1.0, 0.0, -1.0, -1.0, -1.0]], np.float32)  # padding: -1
    predicted = np.array([[0.0, 0.5, 0.0, 9.0, 9.0], [0.0, 0.0, 7.0, -9.0, 3.0]], np.float32)
    loss = np.asarray(intensity_loss(target, predicted))
    # clip 1: errors 0, 0, 1 over 3 frames; clip 2: 1, 0 over 2; padding ignored
    assert loss == pytest.approx([1 / 3, 1 / 2], abs=1e-6)


def test_apex_loss_is_the_cross_entropy_of_the_softmax_over_frames() -> None:
    logits = np.array([[0.0, np.log(3.0), -1e9]], np.float32)  # the last frame is padding
    target = np.array([[0.0, 1.0, 0.0]], np.float32)
    assert float(np.asarray(apex_loss(target, logits))[0]) == pytest.approx(-np.log(0.75), abs=1e-5)


@pytest.mark.parametrize("stretches", [[1.0], [0.8, 1.0, 1.25], [1.25]])
def test_posterior_maps_stretched_views_back_to_the_clips_frames(stretches) -> None:
    def peaked(inputs, training=False):  # a "model" whose logits follow each frame's motion
        x, mask, log_prior = inputs
        return 40.0 * np.abs(x).mean(axis=(2, 3, 4)) + (mask - 1) * 1e9

    flow = np.random.default_rng(1).normal(0, 0.05, (61, 75, 75, 3)).astype(np.float32)
    flow[37:40, 20:50, 20:50] += 3.0  # the "apex": frames 37-39
    p = spotter(clip_variant(test_stretch=stretches), CHANNELS).score(peaked, flow)
    assert p.shape == (61,) and p.sum() == pytest.approx(1.0) and abs(int(np.argmax(p)) - 38) <= 2


def test_batch_lengths_never_contradict_the_shape_keras_read_first(tmp_path) -> None:
    """Keras fixes the time axis from batches 0 and 1 when they agree: then no batch of any
    later epoch may have another length. Here one short clip (16 steps padded, the others 32)
    is paired in the first epoch and alone in a later one (seed 1)."""
    clips = []
    for i, frames in enumerate([31, 33, 33, 33, 33]):
        c = clip(i, 0, frames // 2, frames - 1, subject=f"s{i}")
        arrayfiles.save(arrayfiles.clip_file(tmp_path, c.clip_id), flow=np.zeros((c.n_frames, 75, 75, 3), np.float16))
        clips.append(c)
    batches = ClipBatches(clips, tmp_path, None, clip_variant(), 2, CHANNELS, shuffle=True,
                          seed=1)
    first = {batches[0][0][0].shape[1], batches[1][0][0].shape[1]}
    assert first == {32}
    for _ in range(6):
        assert {batches[b][0][0].shape[1] for b in range(len(batches))} == first
        batches.on_epoch_end()
