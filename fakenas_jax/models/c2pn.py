"""C2PN, the Cell Cascaded Pyramid Network of FD-NAS (Jin et al., §3.7, Fig. 1 bottom, Table 6).

Body: DARTS' CIFAR stem (3×3 conv → ``stem_multiplier``·C, BN) and the searched cells in
``layout`` order — the paper's network is four groups of two normal cells and a reduction cell,
``'NNRNNRNNRNNR'``, on 64×64 faces; each reduction cell doubles C. Any string of 'N' and 'R'
works, so the Table 6 ablation over the number and place of reduction cells is a config change.

Groups and fusion (the paper keeps the groups' multi-scale features and connects the cells "with
skip connections in a cascaded pyramid way" (§5) but gives no equations; this is the design used
here): a group ends at every reduction cell and at the last cell, and its output is one pyramid
level g_1 (finest) … g_L (coarsest). Each level is projected to ``fusion_channels`` F by a
lateral ReLU → 1×1 conv → BN, and the levels are cascaded bottom-up:

    p_1 = lateral_1(g_1),   p_l = lateral_l(g_l) + adaptive_avg_pool(p_{l-1}, size of g_l),

so the coarsest level p_L carries every finer scale through a chain of skip connections. Then
global average pool → dropout → dense. (Adaptive average pooling is PyTorch's: output cell i
averages input rows ⌊i·n/m⌋ … ⌈(i + 1)·n/m⌉ − 1, a 2×2 mean when sizes halve exactly.)

Outputs: ``'logits'`` [B, num_classes] (class 1 = fake). With ``expose_features``,
``'features'``: the stem output and the last state of every smaller resolution, finest first.
"""

from __future__ import annotations

from typing import ClassVar

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from fakenas_jax.models import cells, darts_eval
from fakenas_jax.nn import genotypes, ops, registry

PAPER_LAYOUT = "NNRNNRNNRNNR"


def adaptive_pool_matrix(size_in: int, size_out: int) -> np.ndarray:
  """(size_out, size_in) averaging weights of PyTorch's ``AdaptiveAvgPool`` along one axis."""
  matrix = np.zeros((size_out, size_in), np.float32)
  for i in range(size_out):
    start = (i * size_in) // size_out
    end = -(-((i + 1) * size_in) // size_out)
    matrix[i, start:end] = 1.0 / (end - start)
  return matrix


def adaptive_avg_pool(x: jax.Array, size: tuple[int, int]) -> jax.Array:
  """``AdaptiveAvgPool2d(size)`` on NHWC, as two small constant matrix products."""
  rows = jnp.asarray(adaptive_pool_matrix(x.shape[1], size[0]), x.dtype)
  columns = jnp.asarray(adaptive_pool_matrix(x.shape[2], size[1]), x.dtype)
  return jnp.einsum("ih,bhwc,jw->bijc", rows, x, columns)


def group_ends(layout: str) -> tuple[int, ...]:
  """Indices of the cells whose outputs are pyramid levels: every 'R' and the last cell."""
  reductions = cells.parse_layout(layout)
  last = len(reductions) - 1
  return tuple(i for i, reduction in enumerate(reductions) if reduction or i == last)


class C2PN(nn.Module):
  """The FD-NAS detection network from a searched genotype (module docstring)."""

  genotype: genotypes.Genotype
  num_classes: int = 2
  channels: int = 16
  layout: str = PAPER_LAYOUT
  fusion_channels: int = 0  # 0: 16·C
  drop_path_prob: float = 0.0
  stem_multiplier: int = 3
  dropout_rate: float = 0.0
  reducing_skip: registry.ReducingSkip = "avg_pool"  # the FD-NAS space's; see factory
  expose_features: bool = False
  takes_drop_path: ClassVar[bool] = True  # `__call__(..., drop_path_prob=)`

  @nn.compact
  def __call__(
    self, images: jax.Array, train: bool = False, drop_path_prob: float | jax.Array | None = None
  ) -> dict[str, jax.Array]:
    """``drop_path_prob`` overrides the configured rate (e.g. a per-epoch schedule)."""
    if images.ndim != 4:
      raise ValueError(f"C2PN expects NHWC images, got shape {images.shape}")
    rate = self.drop_path_prob if drop_path_prob is None else drop_path_prob
    s0, s1, _ = darts_eval.make_stem("cifar", self.channels, self.stem_multiplier)(images, train)
    states = cells.CellStack(
      self.genotype, self.layout, self.channels, self.reducing_skip, name="cells"
    )(s0, s1, train, rate)
    width = self.fusion_channels or 16 * self.channels
    pyramid = None
    for level, index in enumerate(group_ends(self.layout)):
      lateral = ops.ReLUConvBN(width, 1, affine=True, name=f"lateral{level}")(states[index], train)
      pyramid = (
        lateral if pyramid is None else lateral + adaptive_avg_pool(pyramid, lateral.shape[1:3])
      )
    pooled = jnp.mean(pyramid, axis=(1, 2))
    pooled = nn.Dropout(self.dropout_rate, deterministic=not train)(pooled)
    outputs = {"logits": nn.Dense(self.num_classes, name="classifier")(pooled)}
    if self.expose_features:
      outputs["features"] = cells.last_per_resolution([s1] + list(states))
    return outputs
