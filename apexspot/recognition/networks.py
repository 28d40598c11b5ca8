"""The recognition networks (Keras 3, `keras.ops` only): ours, the published baseline, and
the small classifier of a recording's pooled flow.

- `flow_classifier` (ours) reads the onset->apex flow as the flow stage stores it (75 x 75,
  the stage's channels). Each sample is divided by its own root-mean-square flow first: a
  micro-expression's amplitude says how strongly a face moved, not which emotion it shows,
  and it varies several times between people and cameras. Then the flow is averaged over
  3 x 3 blocks (one block is about a tenth of an eye distance, finer than any action unit),
  two small convolutions with pooling keep where on the face the motion is, and one dense
  layer reads it. Where the motion is decides the action unit; global pooling would lose it.
- `ststnet` is STSTNet (Liong et al. 2019, the MEGC 2019 composite's lightweight baseline),
  rebuilt from the paper: optical strain, u and v of the onset->apex flow at 28 x 28; three
  parallel streams of one 3 x 3 convolution each (3, 5 and 8 filters, padded by 2), ReLU,
  batch normalisation, 3 x 3 max pooling with stride 3 and dropout 0.5; the 16 maps joined,
  2 x 2 average pooling, one dense layer to the classes.
- `feature_classifier` reads a recording's pooled flow at one step (apexspot.recordings.sequences).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

STST_SIZE = 28


@keras.saving.register_keras_serializable(package="apexspot")
class RmsNormalise(layers.Layer):
    """Each sample divided by its root-mean-square value (plus a floor for a still face)."""

    def call(self, x):
        rms = ops.sqrt(ops.mean(ops.square(x), axis=(1, 2, 3), keepdims=True))
        return x / (rms + 0.05)


def flow_classifier(size: int, channels: int, classes: int, dropout: float = 0.5) -> keras.Model:
    inputs = keras.Input((size, size, channels), name="flow")
    x = RmsNormalise()(inputs)
    x = layers.AveragePooling2D(3)(x)
    x = layers.Conv2D(16, 3, padding="same", activation="relu")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(32, 3, padding="same", activation="relu")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(classes, activation="softmax", name="emotion")(x)
    return keras.Model(inputs, outputs, name="flow_classifier")


def ststnet(classes: int) -> keras.Model:
    inputs = keras.Input((STST_SIZE, STST_SIZE, 3), name="strain_u_v")
    padded = layers.ZeroPadding2D(2)(inputs)
    streams = []
    for filters in (3, 5, 8):
        x = layers.Conv2D(filters, 3, activation="relu")(padded)
        x = layers.BatchNormalization()(x)
        x = layers.MaxPooling2D(3, strides=3, padding="same")(x)
        streams.append(layers.Dropout(0.5)(x))
    x = layers.Concatenate()(streams)
    x = layers.AveragePooling2D(2)(x)
    outputs = layers.Dense(classes, activation="softmax", name="emotion")(layers.Flatten()(x))
    return keras.Model(inputs, outputs, name="ststnet")


def feature_classifier(features: int, classes: int, width: int = 32, dropout: float = 0.3) -> keras.Model:
    inputs = keras.Input((features,), name="pooled_flow")
    x = layers.Dense(width, activation="relu")(inputs)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(classes, activation="softmax", name="emotion")(x)
    return keras.Model(inputs, outputs, name="feature_classifier")


def balanced_weights(y: np.ndarray, classes: int) -> np.ndarray:
    """Per sample: so each class weighs the same in the loss."""
    counts = np.bincount(y, minlength=classes).astype(np.float64)
    return (len(y) / (classes * np.maximum(counts, 1)))[y].astype(np.float32)


def fit(model: keras.Model, x: np.ndarray, y: np.ndarray, epochs: int, batch_size: int,
        learning_rate: float) -> keras.Model:
    """Adam on the cross-entropy, every sample weighted so each class counts the same (UF1 and
    UAR weigh classes, not samples)."""
    weights = balanced_weights(y, model.outputs[0].shape[-1])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy")
    model.fit(x, y, sample_weight=weights, epochs=epochs, batch_size=batch_size, shuffle=True, verbose=0)
    return model


def probabilities(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """samples x classes, as numpy on any backend."""
    return keras.ops.convert_to_numpy(model(np.asarray(x, np.float32), training=False)).astype(np.float64)


def named(probs: np.ndarray, classes: tuple[str, ...]) -> list[tuple[str, float]]:
    """Each sample's most probable class and its probability."""
    return [(classes[int(k)], float(q)) for k, q in zip(probs.argmax(1), probs.max(1))]
