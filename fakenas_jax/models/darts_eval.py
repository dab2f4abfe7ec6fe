"""The DARTS evaluation networks (Liu et al. 2019, §3.2 and its public code): CIFAR and ImageNet.

CIFAR (``stem='cifar'``): stem 3×3 conv → ``stem_multiplier``·C, BN; ``layers`` cells from the
genotype with reduction cells at layers // 3 and 2·layers // 3 (C doubles at each); global
average pool → dense. The auxiliary head (weight 0.4 in the DARTS loss) reads the output
of cell 2·layers // 3: ReLU → 5×5 average pool, stride 3, no padding → 1×1 conv → 128, BN, ReLU →
2×2 conv (no padding) → 768, BN, ReLU → dense. On the 32×32 input the 2×2 conv leaves 1×1;
on larger inputs its output is average-pooled to 1×1 (a plain flatten in the original, which
only runs at 32×32).

ImageNet (``stem='imagenet'``): stem0 = 3×3 stride-2 conv → C/2, BN, ReLU, 3×3 stride-2 conv →
C, BN; stem1 = ReLU, 3×3 stride-2 conv → C, BN; the first cell treats its c_{k-2} as reduced;
the auxiliary head pools 5×5 with stride 2 and has no BN after its 2×2 conv (as DARTS' code).

DARTS_V2 at C = 36, 20 layers, 10 classes has 3,349,342 parameters without the auxiliary head
(the paper's 3.3M), PC-DARTS' CIFAR cell 3,634,678 (3.6M); with the ImageNet stem, C = 48,
14 layers and 1,000 classes DARTS_V2 has 4,718,752 (the paper's 4.7M).

Outputs: ``'logits'`` [B, num_classes]; ``'aux_logits'`` [B, num_classes] when ``train`` and
``auxiliary``; with ``expose_features``, ``'features'``: the last state of every resolution
(stem output, then each reduced size), finest first.
"""

from __future__ import annotations

from typing import ClassVar

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

from fakenas_jax.models import cells
from fakenas_jax.nn import batch_norm, conv, genotypes, registry

STEMS = ("cifar", "imagenet")


def darts_layout(layers: int) -> str:
  """DARTS' layout: ``layers`` cells, reduction cells at layers // 3 and 2·layers // 3."""
  if layers < 3:
    raise ValueError(f"the DARTS network needs at least 3 layers, got {layers}")
  return "".join("R" if i in (layers // 3, 2 * layers // 3) else "N" for i in range(layers))


class UnpaddedConv(nn.Module):
  """k×k convolution without padding or bias (PyTorch's ``padding=0``, Keras' 'valid'), with
  PyTorch's default initialisation: the 2×2 conv of the auxiliary head, Xception's entry convs."""

  features: int
  kernel_size: int = 3
  stride: int = 1

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    c_in = x.shape[-1]
    kernel = self.param(
      "kernel",
      conv.torch_default_init(self.kernel_size**2 * c_in),
      (self.kernel_size, self.kernel_size, c_in, self.features),
    )
    return lax.conv_general_dilated(
      x, kernel, (self.stride, self.stride), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC")
    )


def average_pool_valid(x: jax.Array, window: int, stride: int) -> jax.Array:
  """``AvgPool2d(window, stride, padding=0)``: every window is whole, so the count is window²."""
  total = lax.reduce_window(
    x, 0.0, lax.add, (1, window, window, 1), (1, stride, stride, 1), "VALID"
  )
  return total / (window * window)


class AuxiliaryHead(nn.Module):
  """DARTS' auxiliary classifier (module docstring); ``imagenet`` selects that variant."""

  num_classes: int
  imagenet: bool = False

  @nn.compact
  def __call__(self, x: jax.Array, train: bool) -> jax.Array:
    if min(x.shape[1:3]) < 5:
      raise ValueError(
        f"the auxiliary head needs a feature map of at least 5×5, got "
        f"{x.shape[1:3]}: use a larger input or auxiliary=False"
      )
    x = average_pool_valid(nn.relu(x), 5, 2 if self.imagenet else 3)
    x = conv.Conv2D(128, 1, name="conv1")(x)
    x = nn.relu(batch_norm.BatchNorm(name="bn1")(x, train))
    if min(x.shape[1:3]) < 2:
      raise ValueError(
        f"the auxiliary head pooled the features to {x.shape[1:3]}; its 2×2 conv "
        "needs at least 2×2: use a larger input or auxiliary=False"
      )
    x = UnpaddedConv(768, 2, name="conv2")(x)
    if not self.imagenet:
      x = batch_norm.BatchNorm(name="bn2")(x, train)
    x = jnp.mean(nn.relu(x), axis=(1, 2))
    return nn.Dense(self.num_classes, name="classifier")(x)


class CifarStem(nn.Module):
  """3×3 conv → ``features``, BN (no ReLU); the output is both cell inputs."""

  features: int

  @nn.compact
  def __call__(self, x: jax.Array, train: bool) -> tuple[jax.Array, jax.Array, bool]:
    x = conv.Conv2D(self.features, 3, name="conv")(x)
    x = batch_norm.BatchNorm(name="bn")(x, train)
    return x, x, False


class ImageNetStem(nn.Module):
  """DARTS' ImageNet stems: s0 at stride 4 (C channels), s1 at stride 8 (C channels)."""

  channels: int

  @nn.compact
  def __call__(self, x: jax.Array, train: bool) -> tuple[jax.Array, jax.Array, bool]:
    x = conv.Conv2D(self.channels // 2, 3, 2, name="stem0_conv1")(x)
    x = nn.relu(batch_norm.BatchNorm(name="stem0_bn1")(x, train))
    x = conv.Conv2D(self.channels, 3, 2, name="stem0_conv2")(x)
    s0 = batch_norm.BatchNorm(name="stem0_bn2")(x, train)
    x = conv.Conv2D(self.channels, 3, 2, name="stem1_conv")(nn.relu(s0))
    s1 = batch_norm.BatchNorm(name="stem1_bn")(x, train)
    return s0, s1, True


def make_stem(stem: str, channels: int, stem_multiplier: int) -> nn.Module:
  if stem == "cifar":
    return CifarStem(stem_multiplier * channels, name="stem")
  if stem == "imagenet":
    return ImageNetStem(channels, name="stem")
  raise ValueError(f"unknown stem {stem!r}; known: {', '.join(STEMS)}")


class DartsEvalNetwork(nn.Module):
  """DARTS' evaluation network from a genotype (module docstring)."""

  genotype: genotypes.Genotype
  num_classes: int = 2
  channels: int = 36
  layers: int = 20
  auxiliary: bool = True
  drop_path_prob: float = 0.2
  stem: str = "cifar"
  stem_multiplier: int = 3
  dropout_rate: float = 0.0
  reducing_skip: registry.ReducingSkip = "factorized_reduce"
  expose_features: bool = False
  takes_drop_path: ClassVar[bool] = True  # `__call__(..., drop_path_prob=)`
  default_genotype: ClassVar[str] = "DARTS_V2"  # DARTS' own cells (DARTS §3.3)

  @nn.compact
  def __call__(
    self, images: jax.Array, train: bool = False, drop_path_prob: float | jax.Array | None = None
  ) -> dict[str, jax.Array]:
    """``drop_path_prob`` overrides the configured rate (e.g. a per-epoch schedule)."""
    if images.ndim != 4:
      raise ValueError(f"DartsEvalNetwork expects NHWC images, got shape {images.shape}")
    rate = self.drop_path_prob if drop_path_prob is None else drop_path_prob
    s0, s1, stem_reduced = make_stem(self.stem, self.channels, self.stem_multiplier)(images, train)
    layout = darts_layout(self.layers)
    states = cells.CellStack(
      self.genotype, layout, self.channels, self.reducing_skip, name="cells"
    )(s0, s1, train, rate, stem_reduced)
    outputs = {}
    if self.auxiliary and (train or self.is_initializing()):
      # Initialised whatever `train` is at init, so that a model initialised in evaluation
      # mode can be trained with its auxiliary head.
      aux_logits = AuxiliaryHead(self.num_classes, self.stem == "imagenet", name="auxiliary_head")(
        states[2 * self.layers // 3], train
      )
      if train:
        outputs["aux_logits"] = aux_logits
    pooled = jnp.mean(states[-1], axis=(1, 2))
    pooled = nn.Dropout(self.dropout_rate, deterministic=not train)(pooled)
    outputs["logits"] = nn.Dense(self.num_classes, name="classifier")(pooled)
    if self.expose_features:
      outputs["features"] = cells.last_per_resolution([s0, s1] + list(states))
    return outputs
