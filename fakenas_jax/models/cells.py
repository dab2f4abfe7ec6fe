"""Fixed cells built from a genotype, and a stack of them laid out by a string of 'N' and 'R'.

A cell (DARTS §2.1, its evaluation network; FD-NAS Fig. 3b; ADD §III-B) has two inputs,
c_{k-2} and c_{k-1}, preprocessed to C channels — c_{k-2} by FactorizedReduce when the previous
cell reduced (so both inputs have the same size), else ReLU → 1×1 conv → BN; c_{k-1} by
ReLU → 1×1 conv → BN — and one node per pair of genotype entries: node i is the sum of its two
operations (``registry.make_op(name, C, stride, affine=True)``), stride 2 on the edges that
leave the cell inputs of a reduction cell. The output is the concatenation of the genotype's
concat nodes (4·C channels for the usual four).

Drop path (DARTS' evaluation training, FractalNet's drop path): in training, every operation
output except an identity is zeroed per example with probability p and scaled by 1 / (1 − p);
the masks draw from the ``'dropout'`` rng. p may be a traced scalar, so a schedule does not
recompile; p = 0 or evaluation needs no rng.
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from fakenas_jax.nn import genotypes, ops, registry

Pairs = tuple[tuple[str, int], ...]
LAYOUT_CELLS = ("N", "R")


def parse_layout(layout: str) -> tuple[bool, ...]:
  """``'NNRNNR'`` → (False, False, True, …): True where the cell is a reduction cell."""
  if not layout or any(cell not in LAYOUT_CELLS for cell in layout):
    raise ValueError(
      f"a cell layout is a non-empty string of 'N' (normal) and 'R' (reduction) "
      f"cells, e.g. 'NNRNNRNNRNNR'; got {layout!r}"
    )
  return tuple(cell == "R" for cell in layout)


def drop_path(x: jax.Array, rate: float | jax.Array, rng: jax.Array) -> jax.Array:
  """Zeroes whole examples with probability ``rate`` and scales the rest by 1 / (1 − rate)."""
  keep = 1.0 - rate
  mask = jax.random.bernoulli(rng, keep, (x.shape[0],) + (1,) * (x.ndim - 1))
  return jnp.where(mask, x / keep, 0.0).astype(x.dtype)


def _uses_drop_path(rate: float | jax.Array | None) -> bool:
  if rate is None:
    return False
  if isinstance(rate, (int, float)):
    if not 0.0 <= rate < 1.0:
      raise ValueError(f"drop_path_prob must be in [0, 1), got {rate}")
    return rate > 0.0
  return True  # A traced schedule value: always apply the (possibly all-ones) mask.


class Cell(nn.Module):
  """One fixed cell: ``cell(s0, s1, train, drop_path_prob)`` → (B, H', W', len(concat)·C)."""

  pairs: Pairs
  concat: tuple[int, ...]
  channels: int
  reduction: bool = False
  reduction_prev: bool = False
  reducing_skip: registry.ReducingSkip = "factorized_reduce"

  @nn.compact
  def __call__(
    self, s0: jax.Array, s1: jax.Array, train: bool, drop_path_prob: float | jax.Array | None = None
  ) -> jax.Array:
    if len(self.pairs) % 2:
      raise ValueError(f"a cell needs two (op, input) pairs per node, got {len(self.pairs)}")
    channels = self.channels
    if self.reduction_prev:
      s0 = ops.FactorizedReduce(channels, affine=True, name="preprocess0")(s0, train)
    else:
      s0 = ops.ReLUConvBN(channels, 1, affine=True, name="preprocess0")(s0, train)
    s1 = ops.ReLUConvBN(channels, 1, affine=True, name="preprocess1")(s1, train)
    if s0.shape[1:3] != s1.shape[1:3]:
      raise ValueError(
        f"cell inputs of different sizes {s0.shape} and {s1.shape}: "
        "reduction_prev does not match the previous cell"
      )
    apply_drop_path = train and _uses_drop_path(drop_path_prob)
    states = [s0, s1]
    for node in range(len(self.pairs) // 2):
      total = None
      for position in (2 * node, 2 * node + 1):
        name, source = self.pairs[position]
        stride = 2 if self.reduction and source < 2 else 1
        op = registry.make_op(
          name,
          channels,
          stride,
          affine=True,
          reducing_skip=self.reducing_skip,
          module_name=f"op{position}",
        )
        out = op(states[source], train)
        if apply_drop_path and not isinstance(op, ops.Identity):
          out = drop_path(out, drop_path_prob, self.make_rng("dropout"))
        total = out if total is None else total + out
      states.append(total)
    return jnp.concatenate([states[index] for index in self.concat], axis=-1)


class CellStack(nn.Module):
  """Cells in ``layout`` order from a genotype; a reduction cell doubles C (DARTS' networks).

  Called with the two stem outputs (s0, s1) and whether s1 is already reduced relative to s0
  (``stem_reduced``, the ImageNet stem); returns the output of every cell, in order.
  """

  genotype: genotypes.Genotype
  layout: str
  channels: int
  reducing_skip: registry.ReducingSkip = "factorized_reduce"

  @nn.compact
  def __call__(
    self,
    s0: jax.Array,
    s1: jax.Array,
    train: bool,
    drop_path_prob: float | jax.Array | None = None,
    stem_reduced: bool = False,
  ) -> list[jax.Array]:
    channels = self.channels
    reduction_prev = stem_reduced
    outputs = []
    for index, reduction in enumerate(parse_layout(self.layout)):
      if reduction:
        channels *= 2
      pairs, concat = (
        (self.genotype.reduce, self.genotype.reduce_concat)
        if reduction
        else (self.genotype.normal, self.genotype.normal_concat)
      )
      cell = Cell(
        pairs, concat, channels, reduction, reduction_prev, self.reducing_skip, name=f"cell{index}"
      )
      s0, s1 = s1, cell(s0, s1, train, drop_path_prob)
      outputs.append(s1)
      reduction_prev = reduction
    return outputs


def last_per_resolution(states: Sequence[jax.Array]) -> tuple[jax.Array, ...]:
  """The last state of every spatial size, finest first: the skips of a U-Net-like decoder."""
  kept: dict[tuple[int, int], jax.Array] = {}
  for state in states:
    kept.pop(state.shape[1:3], None)
    kept[state.shape[1:3]] = state
  return tuple(sorted(kept.values(), key=lambda s: -s.shape[1] * s.shape[2]))
