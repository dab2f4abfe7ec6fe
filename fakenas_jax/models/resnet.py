"""ResNet-18 (He et al. 2016) in torchvision's layout: the BiG-Arts backbone and a baseline.

Stem: 7×7 stride-2 conv → 64, BN, ReLU, 3×3 stride-2 max pool (padding 1); four stages of two
basic blocks (3×3 conv-BN-ReLU → 3×3 conv-BN, + shortcut, ReLU) with 64, 128, 256, 512 channels,
stages 2–4 starting with stride 2 and a 1×1 stride-2 conv-BN shortcut; global average pool →
dense. Convolutions have no bias and PyTorch's padding; BN is ``batch_norm.BatchNorm`` (PyTorch
semantics). With 1,000 classes it has torchvision's 11,689,512 parameters.

Outputs: ``{'logits': [B, num_classes]}`` (class 1 = fake). With ``expose_features`` also
``'features'``: the stem's ReLU output (stride 2) and the four stage outputs (strides 4, 8, 16,
32), finest first — the skips of the BiG-Arts decoders.
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from fakenas_jax.nn import batch_norm, conv, pooling


class BasicBlock(nn.Module):
  """conv3×3(stride)-BN-ReLU → conv3×3-BN, + (1×1 stride conv-BN) shortcut, ReLU."""

  features: int
  stride: int = 1

  @nn.compact
  def __call__(self, x: jax.Array, train: bool) -> jax.Array:
    shortcut = x
    y = conv.Conv2D(self.features, 3, self.stride, name="conv1")(x)
    y = nn.relu(batch_norm.BatchNorm(name="bn1")(y, train))
    y = conv.Conv2D(self.features, 3, name="conv2")(y)
    y = batch_norm.BatchNorm(name="bn2")(y, train)
    if self.stride != 1 or x.shape[-1] != self.features:
      shortcut = conv.Conv2D(self.features, 1, self.stride, name="downsample_conv")(x)
      shortcut = batch_norm.BatchNorm(name="downsample_bn")(shortcut, train)
    return nn.relu(y + shortcut)


class ResNet(nn.Module):
  """torchvision-style ResNet with basic blocks; ``stage_sizes=(2, 2, 2, 2)`` is ResNet-18."""

  num_classes: int = 2
  stage_sizes: Sequence[int] = (2, 2, 2, 2)
  width: int = 64
  expose_features: bool = False

  @nn.compact
  def __call__(self, images: jax.Array, train: bool = False) -> dict[str, jax.Array]:
    if images.ndim != 4:
      raise ValueError(f"ResNet expects NHWC images, got shape {images.shape}")
    x = conv.Conv2D(self.width, 7, 2, name="conv1")(images)
    x = nn.relu(batch_norm.BatchNorm(name="bn1")(x, train))
    features = [x]
    x = pooling.max_pool(x, window=3, stride=2)
    for stage, blocks in enumerate(self.stage_sizes):
      for block in range(blocks):
        stride = 2 if stage > 0 and block == 0 else 1
        x = BasicBlock(self.width * 2**stage, stride, name=f"layer{stage + 1}_{block}")(x, train)
      features.append(x)
    logits = nn.Dense(self.num_classes, name="fc")(jnp.mean(x, axis=(1, 2)))
    outputs = {"logits": logits}
    if self.expose_features:
      outputs["features"] = tuple(features)
    return outputs


def resnet18(num_classes: int = 2, **kwargs) -> ResNet:
  return ResNet(num_classes=num_classes, stage_sizes=(2, 2, 2, 2), **kwargs)
