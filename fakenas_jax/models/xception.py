"""Xception (Chollet 2017), the FaceForensics++ baseline, in the Keras/timm layout.

Entry flow: 3×3 stride-2 conv → 32 and 3×3 conv → 64 (no padding), each BN + ReLU; three blocks
of two separable convs (128, 256, 728; the first block without the leading ReLU) and a 3×3
stride-2 max pool, with a 1×1 stride-2 conv-BN shortcut. Middle flow: 8 blocks of three
(ReLU → separable conv 728 → BN) with an identity shortcut. Exit flow: ReLU → sep 728 → BN →
ReLU → sep 1024 → BN → max pool, + 1×1 stride-2 shortcut; sep 1536 → BN → ReLU → sep 2048 →
BN → ReLU; global average pool → dense. A separable conv is a 3×3 depthwise conv then a 1×1
conv, both without bias. With 1,000 classes it has 22,855,952 parameters (Keras' trainable
count; timm's ``legacy_xception``).

Padding follows PyTorch (symmetric), the max pools are ``MaxPool2d(3, 2, padding=1)`` (Keras'
'same' pools pad only the end on even sizes; the output sizes are the same). BN is
``batch_norm.BatchNorm`` (PyTorch semantics).

Outputs: ``{'logits': [B, num_classes]}``. With ``expose_features``, ``'features'``: the entry
convolutions' output (stride 2), the first two entry blocks (strides 4, 8), the end of the middle
flow (stride 16) and the exit flow (stride 32), finest first.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from fakenas_jax.models import darts_eval
from fakenas_jax.nn import batch_norm, conv, pooling

MIDDLE_BLOCKS = 8


class SeparableConvBN(nn.Module):
  """[ReLU →] 3×3 depthwise → 1×1 to ``features`` → BN."""

  features: int
  relu_first: bool = True

  @nn.compact
  def __call__(self, x: jax.Array, train: bool) -> jax.Array:
    if self.relu_first:
      x = nn.relu(x)
    x = conv.DepthwiseConv2D(3, name="depthwise")(x)
    x = conv.PointwiseConv2D(self.features, name="pointwise")(x)
    return batch_norm.BatchNorm(name="bn")(x, train)


class ReducingBlock(nn.Module):
  """Separable convs to ``widths`` → 3×3 stride-2 max pool, + 1×1 stride-2 conv-BN shortcut."""

  widths: tuple[int, ...]
  relu_first: bool = True

  @nn.compact
  def __call__(self, x: jax.Array, train: bool) -> jax.Array:
    shortcut = conv.PointwiseConv2D(self.widths[-1], stride=2, name="shortcut_conv")(x)
    shortcut = batch_norm.BatchNorm(name="shortcut_bn")(shortcut, train)
    for index, width in enumerate(self.widths):
      x = SeparableConvBN(width, self.relu_first or index > 0, name=f"sep{index}")(x, train)
    return pooling.max_pool(x, window=3, stride=2) + shortcut


class MiddleBlock(nn.Module):
  """Three ReLU → separable conv → BN at constant width, + identity."""

  @nn.compact
  def __call__(self, x: jax.Array, train: bool) -> jax.Array:
    y = x
    for index in range(3):
      y = SeparableConvBN(x.shape[-1], name=f"sep{index}")(y, train)
    return x + y


class Xception(nn.Module):
  """Xception (module docstring)."""

  num_classes: int = 2
  expose_features: bool = False

  @nn.compact
  def __call__(self, images: jax.Array, train: bool = False) -> dict[str, jax.Array]:
    if images.ndim != 4:
      raise ValueError(f"Xception expects NHWC images, got shape {images.shape}")
    if min(images.shape[1:3]) < 32:
      raise ValueError(f"Xception needs inputs of at least 32×32, got {images.shape[1:3]}")
    x = darts_eval.UnpaddedConv(32, 3, 2, name="conv1")(images)
    x = nn.relu(batch_norm.BatchNorm(name="bn1")(x, train))
    x = darts_eval.UnpaddedConv(64, 3, name="conv2")(x)
    x = nn.relu(batch_norm.BatchNorm(name="bn2")(x, train))
    features = [x]
    x = ReducingBlock((128, 128), relu_first=False, name="entry1")(x, train)
    features.append(x)
    x = ReducingBlock((256, 256), name="entry2")(x, train)
    features.append(x)
    x = ReducingBlock((728, 728), name="entry3")(x, train)
    for index in range(MIDDLE_BLOCKS):
      x = MiddleBlock(name=f"middle{index}")(x, train)
    features.append(x)
    x = ReducingBlock((728, 1024), name="exit1")(x, train)
    x = nn.relu(SeparableConvBN(1536, relu_first=False, name="exit_sep1")(x, train))
    x = nn.relu(SeparableConvBN(2048, relu_first=False, name="exit_sep2")(x, train))
    features.append(x)
    outputs = {"logits": nn.Dense(self.num_classes, name="fc")(jnp.mean(x, axis=(1, 2)))}
    if self.expose_features:
      outputs["features"] = tuple(features)
    return outputs
