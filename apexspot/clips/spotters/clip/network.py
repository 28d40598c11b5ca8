"""The clip spotter's network and losses (`keras.ops` only: TensorFlow, JAX and PyTorch).

A small CNN turns each frame's pooled flow into a feature vector; each frame's features sit
beside the mean and maximum over its clip; dilated 1-D convolutions look at the frames
around it; one logit per frame is added to the log prior over apex positions, and a
softmax over the clip's frames is the posterior of the apex position.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from apexspot.core.config import ClipVariant

NEG = -1e9


@keras.saving.register_keras_serializable(package="apexspot")
class FoldTime(layers.Layer):
    """(B, T, H, W, C) -> (B*T, H, W, C): every frame of every clip through the same encoder.
    (TimeDistributed keeps the first batch's clip length in a traced TensorFlow graph.)"""

    def call(self, x):
        return ops.reshape(x, (-1, *x.shape[2:]))

    def compute_output_shape(self, input_shape):
        return (None, *input_shape[2:])


@keras.saving.register_keras_serializable(package="apexspot")
class UnfoldTime(layers.Layer):
    """(B*T, F) -> (B, T, F), with B and T read from the clip tensor."""

    def call(self, features, clips):
        shape = ops.shape(clips)
        return ops.reshape(features, (shape[0], shape[1], features.shape[-1]))

    def compute_output_shape(self, features_shape, clips_shape):
        return (clips_shape[0], clips_shape[1], features_shape[-1])


@keras.saving.register_keras_serializable(package="apexspot")
class ClipContext(layers.Layer):
    """Each frame's features beside the masked mean and max over its clip: what the frame
    shows relative to the rest of the clip (the largest motion of this clip, not of any clip)."""

    def call(self, features, mask):
        m = ops.expand_dims(ops.cast(mask, features.dtype), -1)
        count = ops.maximum(ops.sum(m, axis=1, keepdims=True), 1.0)
        mean = ops.sum(features * m, axis=1, keepdims=True) / count
        peak = ops.max(features * m - (1 - m) * 1e4, axis=1, keepdims=True)
        steps = ops.shape(features)[1]
        return ops.concatenate([features, ops.repeat(mean, steps, axis=1), ops.repeat(peak, steps, axis=1),
                                features - ops.repeat(peak, steps, axis=1)], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], 4 * input_shape[-1])


@keras.saving.register_keras_serializable(package="apexspot")
class MaskedLogits(layers.Layer):
    """Evidence + log prior, and a very negative logit on padding frames (always float32)."""

    def call(self, evidence, log_prior, mask):
        evidence = ops.cast(ops.squeeze(evidence, -1), "float32")
        valid = ops.cast(mask, "float32")
        return (evidence + log_prior) * valid + (1.0 - valid) * NEG

    def compute_output_shape(self, input_shape):
        return input_shape[:-1]


def frame_features(flow, width: int):
    """Each frame's (pooled) flow -> `width` features, keeping a coarse 3x3 map of where motion is."""
    x = FoldTime(name="frames")(flow)  # 25 x 25 (75 / pool 3)
    x = layers.Conv2D(16, 3, padding="same", activation="relu", name="enc_conv1")(x)
    x = layers.Conv2D(32, 3, strides=2, activation="relu", name="enc_conv2")(x)  # 12
    x = layers.Conv2D(width, 3, strides=2, activation="relu", name="enc_conv3")(x)  # 5
    x = layers.AveragePooling2D(2, padding="same", name="enc_pool")(x)  # 3
    x = layers.Flatten(name="enc_flat")(x)
    x = layers.Dense(width, activation="relu", name="enc_dense")(x)
    return UnfoldTime(name="per_frame")(x, flow)


def input_shape(frame_shape: tuple[int, int, int], variant: ClipVariant) -> tuple[int, int, int]:
    """The network's frame shape: the flow's, pooled."""
    return frame_shape[0] // variant.pool, frame_shape[1] // variant.pool, frame_shape[2]


def build_clip_model(variant: ClipVariant, flow_shape: tuple[int, int, int] = (75, 75, 3),
                     name: str = "apexspot_clip") -> keras.Model:
    """Inputs: flow (B, T, H, W, C), mask (B, T), log_prior (B, T) (zeros for `prior: false`);
    outputs: the apex logits `apex` (B, T) and, with `intensity_weight` > 0, each frame's
    predicted expression intensity `intensity` (B, T)."""
    flow = keras.Input((None, *input_shape(flow_shape, variant)), name="flow")
    mask = keras.Input((None,), name="mask")
    log_prior = keras.Input((None,), name="log_prior")
    h = frame_features(flow, variant.width)
    if variant.dropout_rate:
        h = layers.Dropout(variant.dropout_rate, name="feature_dropout")(h)
    h = ClipContext(name="clip_context")(h, mask)
    h = layers.Dense(variant.width, activation="relu", name="mix")(h)
    for i in range(variant.temporal_layers):
        step = layers.Conv1D(variant.width, 3, padding="same", dilation_rate=2 ** i, activation="relu",
                             name=f"temporal{i + 1}")(h)
        h = layers.Add(name=f"residual{i + 1}")([h, step])
    evidence = layers.Dense(1, dtype="float32", name="evidence")(h)
    logits = MaskedLogits(name="apex")(evidence, log_prior, mask)
    if not variant.intensity_weight:
        return keras.Model([flow, mask, log_prior], logits, name=name)
    per_frame = layers.Dense(1, dtype="float32", name="intensity_head")(h)
    intensity = layers.Reshape((-1,), name="intensity")(per_frame)
    return keras.Model([flow, mask, log_prior], [logits, intensity], name=name)


@keras.saving.register_keras_serializable(package="apexspot")
def apex_loss(target, logits):
    """Cross-entropy between the target distribution over frames and the posterior."""
    log_p = logits - ops.logsumexp(logits, axis=-1, keepdims=True)
    return -ops.sum(target * log_p, axis=-1)


@keras.saving.register_keras_serializable(package="apexspot")
def intensity_loss(target, predicted):
    """Squared error of each frame's intensity against the paper's continuous targets (0 at
    onset and offset, 1 at the apex); padding frames (target -1) do not count."""
    valid = ops.cast(target >= 0, predicted.dtype)
    error = ops.square(predicted - target) * valid
    return ops.sum(error, axis=-1) / ops.maximum(ops.sum(valid, axis=-1), 1.0)
