"""MesoNet baselines (Afchar et al., *MesoNet: a Compact Facial Video Forgery Detection Network*,
WIFS 2018): Meso-4 and MesoInception-4.

Meso-4: four blocks conv (3×3 → 8, 5×5 → 8, 5×5 → 16, 5×5 → 16; 'same' padding, bias, ReLU)
→ BN → max pool (2, 2, 2, 4; Keras 'same'), then flatten → dropout 0.5 → dense 16 →
LeakyReLU(0.1) → dropout 0.5 → dense. MesoInception-4 replaces the first two convolutions by
inception modules of four branches (1×1; 1×1 → 3×3; 1×1 → 3×3 dilation 2; 1×1 → 3×3 dilation 3,
each conv with bias and ReLU) of widths (1, 4, 4, 2) and (2, 4, 4, 2).

The published network ends in one sigmoid unit (27,977 trainable parameters for Meso-4 at
256×256); here the last dense layer has ``num_classes`` outputs: 2 logits by default
(class 1 = fake), or one logit (the fake logit of a sigmoid) with ``num_classes = 1``.
Differences from the Keras original, on purpose: BN is ``batch_norm.BatchNorm`` (PyTorch
semantics, ε = 1e-5, momentum 0.1; Keras uses ε = 1e-3, momentum 0.99), convolution kernels use
PyTorch's default initialisation. Flattening is over (H, W, C) as Keras does with NHWC, so the
first dense layer's width depends on the input size (1,024 inputs at 256×256, 64 at 64×64).

Outputs (``model.apply(variables, images, train=...)``): ``{'logits': [B, num_classes]}``.
With ``expose_features`` the dict also holds ``'features'``: the feature maps after each of the
four blocks' BN, before pooling (strides 1, 2, 4, 8), finest first, for decoder heads.
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from fakenas_jax.nn import batch_norm, conv, pooling


def max_pool_same(x: jax.Array, window: int) -> jax.Array:
  """Keras ``MaxPooling2D(window, padding='same')`` on NHWC: stride = window, ⌈n / window⌉
  outputs, the padding (never the maximum) split as Keras does, the larger half at the end.
  The shifted slices of `pooling.max_pool`: XLA:CPU's reduce-window gradient materialised four
  index arrays of the input's size (a third of the Meso-4 step, `benchmark_train --profile`)."""
  pads = []
  for size in x.shape[1:3]:
    out = -(-size // window)
    total = max((out - 1) * window + window - size, 0)
    pads.append((total // 2, total - total // 2))
  return pooling.max_pool(x, window=window, stride=window, pad=tuple(pads))


class BiasedConv(nn.Module):
  """k×k convolution with 'same' padding (stride 1, optional dilation), a bias, then ReLU."""

  features: int
  kernel_size: int
  dilation: int = 1

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    x = conv.Conv2D(self.features, self.kernel_size, dilation=self.dilation, name="conv")(x)
    bias = self.param("bias", nn.initializers.zeros, (self.features,))
    return nn.relu(x + bias)


class InceptionModule(nn.Module):
  """MesoInception's block: concat of 1×1, 1×1→3×3, 1×1→3×3 (d = 2), 1×1→3×3 (d = 3)."""

  widths: tuple[int, int, int, int]

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    a, b, c, d = self.widths
    branches = [BiasedConv(a, 1, name="branch1")(x)]
    for index, (width, dilation) in enumerate(((b, 1), (c, 2), (d, 3)), start=2):
      y = BiasedConv(width, 1, name=f"branch{index}_reduce")(x)
      branches.append(BiasedConv(width, 3, dilation, name=f"branch{index}")(y))
    return jnp.concatenate(branches, axis=-1)


class MesoClassifier(nn.Module):
  """Flatten → dropout 0.5 → dense 16 → LeakyReLU(0.1) → dropout 0.5 → dense."""

  num_classes: int
  dropout_rate: float = 0.5

  @nn.compact
  def __call__(self, x: jax.Array, train: bool) -> jax.Array:
    x = x.reshape(x.shape[0], -1)
    x = nn.Dropout(self.dropout_rate, deterministic=not train)(x)
    x = nn.leaky_relu(nn.Dense(16, name="hidden")(x), 0.1)
    x = nn.Dropout(self.dropout_rate, deterministic=not train)(x)
    return nn.Dense(self.num_classes, name="output")(x)


class MesoNet(nn.Module):
  """Meso-4 (``inception=False``) or MesoInception-4 (``inception=True``); module docstring."""

  num_classes: int = 2
  inception: bool = False
  dropout_rate: float = 0.5
  expose_features: bool = False

  @nn.compact
  def __call__(self, images: jax.Array, train: bool = False) -> dict[str, jax.Array]:
    if images.ndim != 4:
      raise ValueError(f"MesoNet expects NHWC images, got shape {images.shape}")
    if self.num_classes < 1:
      raise ValueError(f"num_classes must be >= 1, got {self.num_classes}")
    if self.inception:
      blocks: Sequence = (
        InceptionModule((1, 4, 4, 2), name="inception1"),
        InceptionModule((2, 4, 4, 2), name="inception2"),
        BiasedConv(16, 5, name="conv3"),
        BiasedConv(16, 5, name="conv4"),
      )
    else:
      blocks = (
        BiasedConv(8, 3, name="conv1"),
        BiasedConv(8, 5, name="conv2"),
        BiasedConv(16, 5, name="conv3"),
        BiasedConv(16, 5, name="conv4"),
      )
    features = []
    x = images
    for index, (block, pool) in enumerate(zip(blocks, (2, 2, 2, 4)), start=1):
      x = batch_norm.BatchNorm(name=f"bn{index}")(block(x), train)
      features.append(x)
      x = max_pool_same(x, pool)
    logits = MesoClassifier(self.num_classes, self.dropout_rate, name="classifier")(x, train)
    outputs = {"logits": logits}
    if self.expose_features:
      outputs["features"] = tuple(features)
    return outputs


def meso4(num_classes: int = 2, **kwargs) -> MesoNet:
  return MesoNet(num_classes=num_classes, inception=False, **kwargs)


def meso_inception4(num_classes: int = 2, **kwargs) -> MesoNet:
  return MesoNet(num_classes=num_classes, inception=True, **kwargs)
