"""PyTorch-compatible explicit padding for convolutions and pooling.

Every convolution and pooling window in fakenas_jax is padded explicitly and symmetrically, as
PyTorch's ``Conv2d(padding=p)`` / ``MaxPool2d(padding=p)`` do: ``p = (k − 1) / 2 · dilation`` on
both sides of each spatial axis. XLA's ``'SAME'`` is never used: at stride 2 on an even size it
pads (0, 1) instead of (1, 1), which shifts every kernel centre by one pixel and gives different
numbers from the published (PyTorch) models.

Output sizes follow PyTorch's formula ``⌊(n + 2p − d·(k − 1) − 1) / s⌋ + 1``.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp

Pair = tuple[int, int]
SpatialPadding = tuple[Pair, Pair]


def as_pair(value: int | Sequence[int]) -> Pair:
  """``3`` → ``(3, 3)``; ``(1, 7)`` stays ``(1, 7)``."""
  if isinstance(value, int):
    return (value, value)
  first, second = value
  return (int(first), int(second))


def symmetric_padding(kernel_size: int, dilation: int = 1) -> int:
  """PyTorch's "same" padding of an odd kernel: ``(k − 1) / 2 · dilation`` per side."""
  if kernel_size % 2 != 1:
    raise ValueError(f"symmetric padding needs an odd kernel size, got {kernel_size}")
  return (kernel_size - 1) // 2 * dilation


def spatial_padding(
  kernel_size: int | Sequence[int], dilation: int | Sequence[int] = 1
) -> SpatialPadding:
  """``((top, bottom), (left, right))`` for a (possibly rectangular) odd kernel."""
  kernel_h, kernel_w = as_pair(kernel_size)
  dilation_h, dilation_w = as_pair(dilation)
  pad_h = symmetric_padding(kernel_h, dilation_h)
  pad_w = symmetric_padding(kernel_w, dilation_w)
  return ((pad_h, pad_h), (pad_w, pad_w))


def conv_output_size(
  size: int, kernel_size: int, stride: int = 1, dilation: int = 1, padding: int | Pair = 0
) -> int:
  """PyTorch's output length of a convolution or pooling window along one axis."""
  low, high = as_pair(padding)
  return (size + low + high - dilation * (kernel_size - 1) - 1) // stride + 1


def pad_spatial(x: jax.Array, padding: SpatialPadding, value: float = 0.0) -> jax.Array:
  """Pads the two spatial axes of an NHWC array with a constant."""
  (top, bottom), (left, right) = padding
  if top == bottom == left == right == 0:
    return x
  return jnp.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=value)
