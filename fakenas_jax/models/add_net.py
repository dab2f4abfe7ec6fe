"""The ADD detection network (Liu et al., *Automated Deepfake Detection*, §III-B, §III-C, Fig. 2).

Body: a stem, then ``blocks`` deepfake-detection (D²) blocks of ``cells_per_block`` normal cells
(N = 4) from the searched genotype, with one reduction cell between consecutive D² blocks
(layout ``'NNNNRNNNNRNNNN'`` for 3 blocks; each reduction doubles C). The paper does not give the
stem or the number of blocks: the stem is DARTS' CIFAR stem (3×3 conv → 3C, BN) or, for large
inputs such as the paper's 256×256 crops, DARTS' ImageNet stem (stride 8), and 3 blocks mirror
DARTS' evaluation network.

Classifier (Eq. 4): the last cell's features f → 1×1 conv → BN → ReLU → global average pool →
FC → ReLU → dropout → FC → logits [B, num_classes]. The paper names "a 1×1 convolution followed
by two fully connected layers"; the pooling between them (so that the head does not depend on
the input size) and the width of the hidden FC are choices made here.

Potential-manipulation-region head (§III-C, ``mask_head=True``): a second 1×1 conv (with bias)
maps f to one channel; its sigmoid m (at feature resolution) gates the features, and the
classifier sees f ⊙ m (Eq. 6). The output ``'region'`` is m bilinearly up-sampled to the input
size, [B, H, W, 1], *probabilities* in [0, 1], to be compared with the face convex-hull mask by
the MSE of Eq. 5 (total loss Eq. 7: CE + α·MSE). The sigmoid (the paper does not name one)
keeps m a soft mask: an unbounded m could flip the sign of features and make the MSE target
of 0/1 arbitrary.

With ``expose_features``, ``'features'``: the last state of every resolution, finest first.
"""

from __future__ import annotations

from typing import ClassVar

import flax.linen as nn
import jax
import jax.numpy as jnp

from fakenas_jax.models import cells, darts_eval
from fakenas_jax.nn import batch_norm, conv, genotypes, registry


def add_layout(blocks: int, cells_per_block: int) -> str:
  """``blocks`` runs of ``cells_per_block`` normal cells with a reduction cell between runs."""
  if blocks < 1 or cells_per_block < 1:
    raise ValueError(
      f"ADD needs at least one D² block of at least one cell, got blocks={blocks}, "
      f"cells_per_block={cells_per_block}"
    )
  return "R".join(["N" * cells_per_block] * blocks)


class RegionHead(nn.Module):
  """1×1 conv → one channel → sigmoid: the potential-manipulation-region map at feature size."""

  @nn.compact
  def __call__(self, features: jax.Array) -> jax.Array:
    return nn.sigmoid(nn.Conv(1, (1, 1), name="conv")(features))


class ADDClassifier(nn.Module):
  """1×1 conv → BN → ReLU → global average pool → FC → ReLU → dropout → FC."""

  num_classes: int
  head_channels: int = 256
  hidden_units: int = 256
  dropout_rate: float = 0.0

  @nn.compact
  def __call__(self, features: jax.Array, train: bool) -> jax.Array:
    x = conv.PointwiseConv2D(self.head_channels, name="conv")(features)
    x = nn.relu(batch_norm.BatchNorm(name="bn")(x, train))
    x = jnp.mean(x, axis=(1, 2))
    x = nn.relu(nn.Dense(self.hidden_units, name="fc1")(x))
    x = nn.Dropout(self.dropout_rate, deterministic=not train)(x)
    return nn.Dense(self.num_classes, name="fc2")(x)


class ADDNetwork(nn.Module):
  """ADD's detector from a searched genotype (module docstring)."""

  genotype: genotypes.Genotype
  num_classes: int = 2
  channels: int = 16
  blocks: int = 3
  cells_per_block: int = 4
  stem: str = "cifar"
  stem_multiplier: int = 3
  mask_head: bool = True
  head_channels: int = 256
  hidden_units: int = 256
  dropout_rate: float = 0.0
  drop_path_prob: float = 0.0
  reducing_skip: registry.ReducingSkip = "factorized_reduce"
  expose_features: bool = False
  takes_drop_path: ClassVar[bool] = True  # `__call__(..., drop_path_prob=)`

  @nn.compact
  def __call__(
    self, images: jax.Array, train: bool = False, drop_path_prob: float | jax.Array | None = None
  ) -> dict[str, jax.Array]:
    """``drop_path_prob`` overrides the configured rate (e.g. a per-epoch schedule)."""
    if images.ndim != 4:
      raise ValueError(f"ADDNetwork expects NHWC images, got shape {images.shape}")
    rate = self.drop_path_prob if drop_path_prob is None else drop_path_prob
    s0, s1, stem_reduced = darts_eval.make_stem(self.stem, self.channels, self.stem_multiplier)(
      images, train
    )
    layout = add_layout(self.blocks, self.cells_per_block)
    states = cells.CellStack(
      self.genotype, layout, self.channels, self.reducing_skip, name="cells"
    )(s0, s1, train, rate, stem_reduced)
    features = states[-1]
    outputs = {}
    if self.mask_head:
      region = RegionHead(name="region_head")(features)
      features = features * region
      batch, height, width, _ = images.shape
      outputs["region"] = jax.image.resize(region, (batch, height, width, 1), "bilinear")
    outputs["logits"] = ADDClassifier(
      self.num_classes, self.head_channels, self.hidden_units, self.dropout_rate, name="classifier"
    )(features, train)
    if self.expose_features:
      outputs["features"] = cells.last_per_resolution([s0, s1] + list(states))
    return outputs
