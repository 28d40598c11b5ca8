"""The paper's frame spotter: frames streamed from flow files or held in memory, and seeded
training that repeats exactly on the CPU."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from dvclive import Live

from defaults import CHANNELS, PARAMS, frame_variant, train_params

from apexspot.clips.labels import continuous_labels
from apexspot.clips.manifest import Clip
from apexspot.clips.spotters import frame_batches, spotter
from apexspot.clips.spotters.frame_batches import FlowFrames, FlowFramesInMemory
from apexspot.core import arrayfiles
from apexspot.core.training import live_callback, make_deterministic


def fake_clips(root: Path, n: int = 6, frames: int = 12) -> list[Clip]:
    rng = np.random.default_rng(0)
    clips = []
    for i in range(n):
        c = Clip(f"t/s{i}/c{i}", f"t-{i}", "t", f"c{i}", 100, 100 + 3 + i % 5, 100 + frames - 1, frames,
                 "", "", "", "", "", "s", i + 2)
        flow = rng.normal(size=(frames, 75, 75, 3)).astype(np.float16)
        flow[:, 0, 0, 0] = i  # which clip
        flow[:, 0, 1, 0] = np.arange(frames)  # which frame
        arrayfiles.save(arrayfiles.clip_file(root, c.clip_id), flow=flow)
        clips.append(c)
    return clips


def test_every_frame_once_per_epoch_with_its_target(tmp_path: Path) -> None:
    clips = fake_clips(tmp_path)
    ds = FlowFrames(clips, tmp_path, batch_size=5, stride=2, shuffle=True, seed=1, group=2)
    for _ in range(2):
        seen = []
        for i in range(len(ds)):
            x, y = ds[i]
            assert x.dtype == np.float32 and x.shape[1:] == (75, 75, 3) and y.shape == (len(x), 1)
            for xi, yi in zip(x, y):
                c, f = int(xi[0, 0, 0]), int(xi[0, 1, 0])
                seen.append((c, f))
                clip = clips[c]
                assert yi[0] == pytest.approx(continuous_labels(clip.onset, clip.apex, clip.offset)[f])
            assert len(ds.cache) <= 2 * ds.group  # memory bounded by the group, not the dataset
        assert sorted(seen) == [(c, f) for c in range(6) for f in range(0, 12, 2)]
        ds.on_epoch_end()


def tiny_training(tmp_path: Path, clips: list[Clip], run: str) -> tuple[list[float], list[np.ndarray]]:
    p = train_params(seed=5, frame={"epochs": 2, "batch_size": 8, "learning_rate": 1e-3, "frame_stride": 3})
    make_deterministic(p.seed)
    s = spotter(frame_variant(convs=3, norm="bn"), CHANNELS)
    model = s.build((75, 75, 3))
    live = Live(dir=str(tmp_path / run), save_dvc_exp=False, dvcyaml=False)
    history = s.fit(model, clips[:4], clips[4:], tmp_path, p, [live_callback(live)])
    live.end()
    return history.history["loss"] + history.history["val_loss"], model.get_weights()


def test_same_seed_same_losses_and_weights(tmp_path: Path) -> None:
    clips = fake_clips(tmp_path)
    losses_a, weights_a = tiny_training(tmp_path, clips, "a")
    losses_b, weights_b = tiny_training(tmp_path, clips, "b")
    assert losses_a == losses_b
    assert all(np.array_equal(a, b) for a, b in zip(weights_a, weights_b))
    logged = (tmp_path / "a" / "plots" / "metrics" / "train" / "loss.tsv").read_text().splitlines()
    assert logged[0].split("\t") == ["step", "loss"] and len(logged) == 3
    assert (tmp_path / "a" / "plots" / "metrics" / "eval" / "loss.tsv").exists()


def test_batchnorm_recalibration_sets_population_statistics(tmp_path: Path) -> None:
    import keras

    from apexspot.clips.spotters.frame import recalibrate_batchnorm

    clips = fake_clips(tmp_path, n=2)
    ds = FlowFrames(clips, tmp_path, batch_size=6, shuffle=False)
    inputs = keras.Input((75, 75, 3))
    bn = keras.layers.BatchNormalization(momentum=0.99)
    model = keras.Model(inputs, bn(inputs))
    recalibrate_batchnorm(model, ds, steps=len(ds))
    frames = np.concatenate([ds[i][0] for i in range(len(ds))])
    assert np.allclose(np.asarray(bn.moving_mean), frames.mean((0, 1, 2)), atol=1e-3)
    assert bn.momentum == 0.99


@pytest.mark.parametrize("shuffle", [False, True])
def test_in_memory_loader_gives_the_streaming_loaders_batches(tmp_path: Path, shuffle: bool) -> None:
    clips = fake_clips(tmp_path)
    stream = FlowFrames(clips, tmp_path, batch_size=5, stride=2, shuffle=shuffle, seed=3, group=2)
    memory = FlowFramesInMemory(clips, tmp_path, batch_size=5, stride=2, shuffle=shuffle, seed=3, group=2)
    assert memory.data.dtype == np.float16 and len(memory.data) == 6 * 6  # every kept frame, once
    for _ in range(2):  # two epochs: the reshuffled order matches too
        assert len(stream) == len(memory)
        for i in range(len(stream)):
            (xs, ys), (xm, ym) = stream[i], memory[i]
            assert xm.dtype == np.float32 and np.array_equal(xs, xm) and np.array_equal(ys, ym)
        stream.on_epoch_end()
        memory.on_epoch_end()


def test_loader_choice_follows_the_params_and_the_memory_budget(tmp_path: Path, monkeypatch) -> None:
    training = frame_batches
    clips = fake_clips(tmp_path)
    assert training.fold_bytes(clips, tmp_path, 2) == 6 * 6 * 75 * 75 * 3 * 2
    p = PARAMS.train.frame.replace(batch_size=4, frame_stride=2, loader="auto")
    assert type(training.frame_batches(clips, tmp_path, p, True)) is FlowFramesInMemory
    assert type(training.frame_batches(clips, tmp_path, p.replace(loader="stream"), True)) is FlowFrames
    monkeypatch.setattr(training, "memory_budget", lambda: 1000)  # the fold does not fit: stream
    assert type(training.frame_batches(clips, tmp_path, p, True)) is FlowFrames
    assert type(training.frame_batches(clips, tmp_path, p.replace(loader="memory"), True)) \
        is FlowFramesInMemory
    assert type(training.frame_batches([], tmp_path, p, False)) is FlowFrames
