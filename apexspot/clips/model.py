"""The apex-spotting CNN of Ng, Zulkifley et al. (CMC 2022), Tables 3 and 4, in Keras 3.

Only `keras.ops` is used, so the model runs on TensorFlow (the default backend), JAX and
PyTorch alike (`KERAS_BACKEND`).

Base network (Table 3), input 75x75xC:

    conv 3x3/2 (96) -> LRN -> maxpool 3x3/2 -> conv 3x3/2 (256) -> LRN -> maxpool 3x3/2
    -> [attention] -> conv 3x3/1 same (512) x 3 -> maxpool 3x3/1 valid -> FC128 -> FC128 -> FC1

Output sizes 37, 19, 9, 4, 4, 2. The paper's table gives 20 after the first pooling, which
its own kernel, stride and padding cannot produce (valid gives 18, same gives 19); we pool
with `same` padding (19), the only choice that also yields the table's 9 and 4 after it.

Attention (Table 4), on X = the second pooling's output (4x4x256):

    conv 256 -> LRN -> maxpool 2 -> conv 512 -> LRN -> upsample x2 (bilinear)
    -> conv 256 -> LRN -> conv 256 -> sigmoid = M(X);   output X * (1 + M(X))

Variants (paper Tables 5-8): 3, 4 or 5 conv layers (one, two or three of the 512 layers);
LRN after the first two convolutions (as Table 3), BN after every convolution, or no
normalisation; attention on or off.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import layers, ops

from apexspot.core.config import FrameVariant

@keras.saving.register_keras_serializable(package="apexspot")
class LocalResponseNormalization(layers.Layer):
    """Across-channel LRN as in AlexNet / VGG-M, equal to tf.nn.local_response_normalization:

    out = x / (bias + alpha * sum_{|j - c| <= radius} x_j^2) ** beta
    """

    def __init__(self, depth_radius: int = 2, bias: float = 2.0, alpha: float = 1e-4, beta: float = 0.75,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.depth_radius, self.bias, self.alpha, self.beta = depth_radius, bias, alpha, beta

    def build(self, input_shape) -> None:
        # The sum over neighbouring channels as a 1x1 convolution with a banded 0/1 kernel:
        # about 3x faster to train than summing shifted slices, and still plain keras.ops.
        channels = int(input_shape[-1])
        band = np.abs(np.arange(channels)[:, None] - np.arange(channels)[None, :]) <= self.depth_radius
        self.band = band.astype("float32")[None, None]

    def call(self, x):
        window = ops.conv(ops.square(x), ops.cast(self.band, x.dtype), padding="same")
        return x / ops.power(self.bias + self.alpha * window, self.beta)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "depth_radius": self.depth_radius, "bias": self.bias,
                "alpha": self.alpha, "beta": self.beta}


def _norm(kind: str, name: str):
    if kind == "lrn":
        return LocalResponseNormalization(name=name)
    if kind == "bn":
        # Momentum 0.9, not Keras' 0.99: the moving statistics must settle within the few
        # hundred steps of a short run, or inference sees untrained statistics.
        return layers.BatchNormalization(momentum=0.9, name=name)
    return layers.Identity(name=name)


def attention_unit(x, name: str = "attention"):
    """X * (1 + M(X)), M from a small encoder-decoder (Table 4). M is the layer `<name>_mask`."""
    a = layers.Conv2D(256, 3, padding="same", activation="relu", name=f"{name}_conv1")(x)
    a = LocalResponseNormalization(name=f"{name}_lrn1")(a)
    a = layers.MaxPooling2D(2, name=f"{name}_pool")(a)
    a = layers.Conv2D(512, 3, padding="same", activation="relu", name=f"{name}_conv2")(a)
    a = LocalResponseNormalization(name=f"{name}_lrn2")(a)
    a = layers.UpSampling2D(2, interpolation="bilinear", name=f"{name}_up")(a)
    a = layers.Conv2D(256, 3, padding="same", activation="relu", name=f"{name}_conv3")(a)
    a = LocalResponseNormalization(name=f"{name}_lrn3")(a)
    mask = layers.Conv2D(256, 3, padding="same", activation="sigmoid", name=f"{name}_mask")(a)
    return layers.Add(name=f"{name}_out")([x, layers.Multiply(name=f"{name}_apply")([x, mask])])


def build_model(variant: FrameVariant, input_shape: tuple[int, int, int] = (75, 75, 3), name: str = "apexspot") -> keras.Model:
    """One variant of the network: per-frame flow in, one continuous score out."""
    inputs = keras.Input(input_shape, name="flow")
    x = layers.Conv2D(96, 3, strides=2, activation="relu", name="conv1")(inputs)  # 37
    x = _norm(variant.norm, "norm1")(x)
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)  # 19
    x = layers.Conv2D(256, 3, strides=2, activation="relu", name="conv2")(x)  # 9
    x = _norm(variant.norm, "norm2")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool2")(x)  # 4
    if variant.attention:
        x = attention_unit(x)
    for i in range(3, variant.convs + 1):
        x = layers.Conv2D(512, 3, padding="same", activation="relu", name=f"conv{i}")(x)  # 4
        if variant.norm == "bn":  # the BN rows of Tables 5-7 normalise every convolution
            x = _norm("bn", f"norm{i}")(x)
    x = layers.MaxPooling2D(3, strides=1, name="pool3")(x)  # 2
    x = layers.Flatten(name="flatten")(x)
    for i in (1, 2):
        x = layers.Dense(128, activation="relu", name=f"fc{i}")(x)
    outputs = layers.Dense(1, dtype="float32", name="score")(x)  # float32 even under mixed precision
    return keras.Model(inputs, outputs, name=name)


def output_sizes(model: keras.Model) -> dict[str, tuple]:
    """Output shape (without batch) of each named layer, for the size tables."""
    return {layer.name: tuple(layer.output.shape[1:]) for layer in model.layers}


def has_attention(model: keras.Model) -> bool:
    return any(layer.name == "attention_mask" for layer in model.layers)


def attention_mask(model: keras.Model, flow: np.ndarray) -> np.ndarray | None:
    """M(X) averaged over channels (H x W), for one frame; None if the model has no attention."""
    if not has_attention(model):
        return None
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs  # as the model is called: no list of one
    probe = keras.Model(inputs, model.get_layer("attention_mask").output)
    return keras.ops.convert_to_numpy(probe(flow[:1], training=False))[0].mean(axis=-1)
