"""Convolution primitives (NHWC, no bias, PyTorch padding) that are fast on a small CPU.

Three ways to compute a convolution, chosen per call by ``impl``:

* ``'xla'`` — ``lax.conv_general_dilated`` (``feature_group_count = C`` for depthwise). Good for
  wide plain convolutions; XLA:CPU's grouped (depthwise) convolution is slow.
* ``'taps'`` — shifted slices × per-channel weights: one strided slice of the padded input per
  kernel tap, multiplied by that tap's weights and summed; XLA fuses the forward into one loop,
  but the weight gradient materialises every slice (one reduction per tap).
* ``'banded'`` — the width axis as a matrix product: the ``kh`` strided row-slices of the
  height-padded input are contracted with a banded (Toeplitz) matrix ``T[i, w_in, w_out, c]``
  built from the kernel and a constant 0/1 selector (which also does the width padding).
  One ``dot_general`` forward, two backward; it does ``W / k`` times the arithmetic of the
  direct form, which pays off for the narrow tensors of a partial-channel search.
* ``'auto'`` — the one measured fastest for the shape (see ``scripts/benchmark_ops.py``).

All three give the same numbers (tests compare them with a NumPy reference).

Designed for a fused mixed operation. ``depthwise_conv`` takes a stack of kernels
``(kh, kw, C, M)`` — a channel multiplier — so the M same-input depthwise convolutions of the
candidates of one edge (e.g. the first depthwise conv of the four SepCDC_3x3_θ) run as ONE
convolution; output channel ``c·M + m`` is channel c of kernel m, i.e. the result reshaped to
``(..., C, M)`` splits the candidates. Kernels of different size or dilation share one call by
embedding them in the largest footprint (a 3×3 with dilation 2 is a 5×5 with zeros at odd
positions; a 3×3 sits in the middle of a 5×5); pass ``taps`` — the static set of footprint
positions that are not structurally zero — and the ``'taps'`` implementation skips the others.
``pointwise_conv`` takes grouped kernels ``(G, C_in, C_out)``, so the M pointwise convolutions that
follow run as one block-diagonal product. CDC (``cdc.fold_central_difference``) folds into any
of these kernels before the call, so candidates differing only in θ share a call too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from fakenas_jax.nn import cdc
from fakenas_jax.nn import padding as padding_lib

ConvImpl = Literal["auto", "xla", "taps", "banded"]
CONV_IMPLS = ("auto", "xla", "taps", "banded")
Tap = tuple[int, int]

_CONV_DIMENSIONS = ("NHWC", "HWIO", "NHWC")


def torch_default_init(fan_in: int) -> nn.initializers.Initializer:
  """PyTorch's default conv initialisation, kaiming-uniform with a = √5: U(±1/√fan_in)."""
  bound = 1.0 / math.sqrt(fan_in)

  def init(key, shape, dtype=jnp.float32):
    return jax.random.uniform(key, shape, dtype, -bound, bound)

  return init


def _output_hw(
  x: jax.Array, kernel_hw: Tap, stride: Tap, dilation: Tap, pad: padding_lib.SpatialPadding
) -> Tap:
  return tuple(
    padding_lib.conv_output_size(
      x.shape[1 + axis], kernel_hw[axis], stride[axis], dilation[axis], pad[axis]
    )
    for axis in range(2)
  )


def _tap_slice(padded: jax.Array, tap: Tap, dilation: Tap, stride: Tap, out_hw: Tap) -> jax.Array:
  """The strided window of the padded input that kernel tap ``tap`` multiplies."""
  start_h, start_w = tap[0] * dilation[0], tap[1] * dilation[1]
  batch, _, _, channels = padded.shape
  return lax.slice(
    padded,
    (0, start_h, start_w, 0),
    (
      batch,
      start_h + (out_hw[0] - 1) * stride[0] + 1,
      start_w + (out_hw[1] - 1) * stride[1] + 1,
      channels,
    ),
    (1, stride[0], stride[1], 1),
  )


def _width_selector(
  width: int, out_width: int, kernel_w: int, stride: int, dilation: int, pad_left: int
) -> np.ndarray:
  """Constant S[j, w_in, w_out] = 1 where tap j of output column w_out reads input column w_in."""
  selector = np.zeros((kernel_w, width, out_width), np.float32)
  for tap in range(kernel_w):
    for column in range(out_width):
      source = column * stride + tap * dilation - pad_left
      if 0 <= source < width:
        selector[tap, source, column] = 1.0
  return selector


def _row_stack(
  x: jax.Array,
  kernel_h: int,
  stride: int,
  dilation: int,
  pad_hw: padding_lib.SpatialPadding,
  out_h: int,
) -> jax.Array:
  """(B, H_out, kh, W, C): for every output row the kh input rows it reads (height-padded)."""
  padded = padding_lib.pad_spatial(x, (pad_hw[0], (0, 0)))
  batch, _, width, channels = padded.shape
  rows = [
    lax.slice(
      padded,
      (0, tap * dilation, 0, 0),
      (batch, tap * dilation + (out_h - 1) * stride + 1, width, channels),
      (1, stride, 1, 1),
    )
    for tap in range(kernel_h)
  ]
  return jnp.stack(rows, axis=2)


def _banded_operands(x, kernel_hw, stride, dilation, pad, out_hw):
  rows = _row_stack(x, kernel_hw[0], stride[0], dilation[0], pad, out_hw[0])
  selector = _width_selector(x.shape[2], out_hw[1], kernel_hw[1], stride[1], dilation[1], pad[1][0])
  return rows, jnp.asarray(selector, x.dtype)


# ----------------------------------------------------------------------------------------------
# Depthwise convolution.


def depthwise_conv(
  x: jax.Array,
  kernel: jax.Array,
  *,
  stride: int | Sequence[int] = 1,
  dilation: int | Sequence[int] = 1,
  taps: Sequence[Tap] | None = None,
  impl: ConvImpl = "auto",
) -> jax.Array:
  """Depthwise convolution with PyTorch's symmetric padding ``(k − 1) / 2 · dilation``.

  Args:
    x: ``(B, H, W, C)``.
    kernel: ``(kh, kw, C)``, or a stack ``(kh, kw, C, M)`` of M kernels (channel multiplier).
    stride, dilation: ints or (height, width) pairs.
    taps: optional static list of the kernel positions ``(i, j)`` that may be non-zero (the
      others are taken to be zero); lets a fused mixed op skip structural zeros. Only
      ``'taps'`` uses it; the others compute every position (the same result).
    impl: ``'auto'``, ``'xla'``, ``'taps'`` or ``'banded'`` (module docstring).

  Returns:
    ``(B, H_out, W_out, C·M)`` with output channel ``c·M + m`` (``(..., C)`` when M is absent).
  """
  stride, dilation = padding_lib.as_pair(stride), padding_lib.as_pair(dilation)
  kernel_hw = kernel.shape[:2]
  stacked = kernel.ndim == 4
  kernel4 = kernel if stacked else kernel[..., None]
  if kernel4.shape[2] != x.shape[-1]:
    raise ValueError(f"depthwise kernel has {kernel4.shape[2]} channels, input {x.shape[-1]}")
  pad = padding_lib.spatial_padding(kernel_hw, dilation)
  out_hw = _output_hw(x, kernel_hw, stride, dilation, pad)
  if impl == "auto":
    impl = _auto_depthwise_impl(x.shape, kernel4.shape, out_hw)
  if impl == "xla":
    out = _depthwise_xla(x, kernel4, stride, dilation, pad)
  elif impl == "taps":
    out = _depthwise_taps(x, kernel4, stride, dilation, pad, out_hw, taps)
  elif impl == "banded":
    out = _depthwise_banded(x, kernel4, stride, dilation, pad, out_hw)
  else:
    raise ValueError(f"unknown conv impl {impl!r}; known: {CONV_IMPLS}")
  return out.reshape(out.shape[:3] + (-1,))


def _auto_depthwise_impl(x_shape, kernel_shape, out_hw) -> str:
  """Banded while the input is at most 16 kernel widths wide, else taps.

  Banded does W / kw times the multiply-adds of the direct form, but as matrix products;
  measured on the 2-core CPU (scripts/benchmark_ops.py, forward + backward) it is as fast as
  taps or up to 5× faster from 8×8 to 32×32 (most with 5×5 kernels and channel multipliers),
  level with it at W = 64 for a 3×3 kernel; XLA's grouped convolution is 5–40× slower.
  """
  del out_hw
  return "banded" if x_shape[2] <= 16 * kernel_shape[1] else "taps"


def _depthwise_xla(x, kernel4, stride, dilation, pad):
  kernel_h, kernel_w, channels, multiplier = kernel4.shape
  return lax.conv_general_dilated(
    x,
    kernel4.reshape(kernel_h, kernel_w, 1, channels * multiplier),
    stride,
    pad,
    rhs_dilation=dilation,
    dimension_numbers=_CONV_DIMENSIONS,
    feature_group_count=channels,
  )


def _depthwise_taps(x, kernel4, stride, dilation, pad, out_hw, taps):
  padded = padding_lib.pad_spatial(x, pad)
  kernel_h, kernel_w, _, multiplier = kernel4.shape
  positions = (
    taps if taps is not None else [(i, j) for i in range(kernel_h) for j in range(kernel_w)]
  )
  out = None
  for tap in positions:
    window = _tap_slice(padded, tap, dilation, stride, out_hw)
    if multiplier == 1:
      term = window * kernel4[tap[0], tap[1], :, 0]
    else:
      term = window[..., None] * kernel4[tap[0], tap[1]]
    out = term if out is None else out + term
  if multiplier == 1:
    out = out[..., None]
  return out


def _depthwise_banded(x, kernel4, stride, dilation, pad, out_hw):
  rows, selector = _banded_operands(x, kernel4.shape[:2], stride, dilation, pad, out_hw)
  band = jnp.einsum("jvo,ijcm->ivocm", selector, kernel4)
  return jnp.einsum("bhivc,ivocm->bhocm", rows, band)


# ----------------------------------------------------------------------------------------------
# Pointwise (1×1) convolution.


def pointwise_conv(x: jax.Array, kernel: jax.Array, *, stride: int = 1) -> jax.Array:
  """1×1 convolution (padding 0, so stride s keeps pixels 0, s, 2s, …, as PyTorch does).

  Args:
    x: ``(B, H, W, C_in)``.
    kernel: ``(C_in, C_out)``, or grouped ``(G, C_in / G, C_out / G)``: input channel group g
      (channels ``g·C_in/G …``) maps to output group g — the block-diagonal product that runs the
      pointwise convolutions of G fused candidates at once.
  """
  if stride != 1:
    x = x[:, ::stride, ::stride, :]
  if kernel.ndim == 3:
    kernel = _block_diagonal(kernel)
  if kernel.shape[0] != x.shape[-1]:
    raise ValueError(f"pointwise kernel expects {kernel.shape[0]} channels, input {x.shape[-1]}")
  return _packed_matmul(x, kernel)


def _block_diagonal(grouped: jax.Array) -> jax.Array:
  """(G, C_in, C_out) → the (G·C_in, G·C_out) block-diagonal matrix (a broadcast, not a dot)."""
  groups, c_in, c_out = grouped.shape
  eye = jnp.eye(groups, dtype=grouped.dtype)[:, None, :, None]
  return (eye * grouped[:, :, None, :]).reshape(groups * c_in, groups * c_out)


def _packed_matmul(x: jax.Array, kernel: jax.Array, min_width: int = 8) -> jax.Array:
  """``x @ kernel`` over the channel axis; narrow channels are packed P pixels to a row.

  XLA:CPU multiplies (N, 2) by (2, 2) far below its matrix throughput; reading P neighbouring
  pixels as one row and multiplying by ``kron(I_P, kernel)`` gives the same numbers with a
  well-shaped product (measured 2–3.5× faster, forward + backward, for 4 and 2 channels).
  """
  c_in, c_out = kernel.shape
  pixels = math.prod(x.shape[:-1])
  pack = max(1, min_width // c_in)
  while pack > 1 and pixels % pack:
    pack //= 2
  if pack == 1:
    return jnp.einsum("bhwc,cd->bhwd", x, kernel)
  packed_kernel = jnp.kron(jnp.eye(pack, dtype=kernel.dtype), kernel)
  out = x.reshape(pixels // pack, pack * c_in) @ packed_kernel
  return out.reshape(x.shape[:-1] + (c_out,))


# ----------------------------------------------------------------------------------------------
# Plain (dense) convolution.


def conv2d(
  x: jax.Array,
  kernel: jax.Array,
  *,
  stride: int | Sequence[int] = 1,
  dilation: int | Sequence[int] = 1,
  impl: ConvImpl = "auto",
) -> jax.Array:
  """Dense convolution, kernel ``(kh, kw, C_in, C_out)`` (HWIO), PyTorch's symmetric padding.

  Rectangular kernels (``(1, 7)``, ``(7, 1)``) pad each axis by its own ``(k − 1) / 2``.
  """
  stride, dilation = padding_lib.as_pair(stride), padding_lib.as_pair(dilation)
  kernel_hw = kernel.shape[:2]
  if kernel_hw == (1, 1):
    return pointwise_conv(x[:, :: stride[0], :: stride[1], :], kernel[0, 0])
  pad = padding_lib.spatial_padding(kernel_hw, dilation)
  out_hw = _output_hw(x, kernel_hw, stride, dilation, pad)
  if impl == "auto":
    impl = _auto_conv_impl(x.shape, kernel.shape, out_hw)
  if impl == "xla":
    return lax.conv_general_dilated(
      x, kernel, stride, pad, rhs_dilation=dilation, dimension_numbers=_CONV_DIMENSIONS
    )
  if impl == "taps":
    return _conv_taps(x, kernel, stride, dilation, pad, out_hw)
  if impl == "banded":
    return _conv_banded(x, kernel, stride, dilation, pad, out_hw)
  raise ValueError(f"unknown conv impl {impl!r}; known: {CONV_IMPLS}")


def _auto_conv_impl(x_shape, kernel_shape, out_hw) -> str:
  """Banded while its band matrix (kh·W·C_in × W_out·C_out) has at most 64k entries, else XLA.

  Narrow convolutions (the 2–8 channels of a partial-channel search) run up to 6× faster
  banded (7×7, 2 channels, 32×32); wide ones are left to XLA's dense convolution.
  """
  kernel_h, _, c_in, c_out = kernel_shape
  band_entries = kernel_h * x_shape[2] * c_in * out_hw[1] * c_out
  return "banded" if band_entries <= 65536 else "xla"


def _conv_taps(x, kernel, stride, dilation, pad, out_hw):
  """im2col from shifted slices, then one product with the (taps·C_in, C_out) kernel."""
  padded = padding_lib.pad_spatial(x, pad)
  kernel_h, kernel_w, c_in, c_out = kernel.shape
  windows = [
    _tap_slice(padded, (i, j), dilation, stride, out_hw)
    for i in range(kernel_h)
    for j in range(kernel_w)
  ]
  patches = jnp.concatenate(windows, axis=-1)
  return jnp.einsum("bhwk,kd->bhwd", patches, kernel.reshape(kernel_h * kernel_w * c_in, c_out))


def _conv_banded(x, kernel, stride, dilation, pad, out_hw):
  rows, selector = _banded_operands(x, kernel.shape[:2], stride, dilation, pad, out_hw)
  batch, out_h, kernel_h, width, c_in = rows.shape
  band = jnp.einsum("jvo,ijcd->ivcod", selector, kernel)
  out = rows.reshape(batch * out_h, kernel_h * width * c_in) @ band.reshape(
    kernel_h * width * c_in, -1
  )
  return out.reshape(batch, out_h, out_hw[1], kernel.shape[3])


# ----------------------------------------------------------------------------------------------
# Linen layers: parameters (PyTorch's initialisation) + optional CDC folding + a primitive.


class DepthwiseConv2D(nn.Module):
  """Depthwise k×k convolution, optionally a CDC with ``theta`` (FD-NAS Eq. 3), no bias.

  The kernel is ``(kh, kw, C)``, or ``(kh, kw, C, multiplier)`` for a channel multiplier > 1.
  """

  kernel_size: int | tuple[int, int] = 3
  stride: int = 1
  dilation: int = 1
  theta: float = 0.0
  multiplier: int = 1
  impl: ConvImpl = "auto"

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    kernel_h, kernel_w = padding_lib.as_pair(self.kernel_size)
    shape = (kernel_h, kernel_w, x.shape[-1])
    if self.multiplier != 1:
      shape += (self.multiplier,)
    kernel = self.param("kernel", torch_default_init(kernel_h * kernel_w), shape)
    kernel = cdc.fold_central_difference(kernel, self.theta)
    return depthwise_conv(x, kernel, stride=self.stride, dilation=self.dilation, impl=self.impl)


class PointwiseConv2D(nn.Module):
  """1×1 convolution to ``features`` channels, optionally a CDC (kernel folds to w·(1 − θ))."""

  features: int
  stride: int = 1
  theta: float = 0.0

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    c_in = x.shape[-1]
    kernel = self.param("kernel", torch_default_init(c_in), (c_in, self.features))
    if self.theta:
      kernel = kernel * (1.0 - self.theta)
    return pointwise_conv(x, kernel, stride=self.stride)


class Conv2D(nn.Module):
  """Dense k×k (or kh×kw) convolution to ``features`` channels, optionally a CDC, no bias."""

  features: int
  kernel_size: int | tuple[int, int] = 3
  stride: int | tuple[int, int] = 1
  dilation: int = 1
  theta: float = 0.0
  impl: ConvImpl = "auto"

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    kernel_h, kernel_w = padding_lib.as_pair(self.kernel_size)
    c_in = x.shape[-1]
    kernel = self.param(
      "kernel",
      torch_default_init(kernel_h * kernel_w * c_in),
      (kernel_h, kernel_w, c_in, self.features),
    )
    kernel = cdc.fold_central_difference(kernel, self.theta)
    return conv2d(x, kernel, stride=self.stride, dilation=self.dilation, impl=self.impl)
