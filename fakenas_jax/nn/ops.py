"""The candidate operations of the DARTS, ADD and FD-NAS search spaces, as Flax Linen modules.

Every operation maps ``(B, H, W, C)`` (NHWC) to ``(B, ⌈H/s⌉, ⌈W/s⌉, channels)`` and is called as
``op(x, train)``; ``train`` selects batch statistics (and updates ``batch_stats``) or the
running averages. Convolutions have no bias and PyTorch's symmetric padding; batch norm
(``batch_norm.BatchNorm``) has PyTorch's momentum 0.1 and ε = 1e-5, and is affine or not
(non-affine during search, affine in fixed networks). ``conv_impl`` picks the convolution
primitive (``conv``; all give the same numbers). Definitions follow DARTS (Liu et al. 2019) and
its public code; the CDC variants follow FD-NAS (Eq. 3).
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from fakenas_jax.nn import batch_norm, conv, pooling


def _reduced_size(size: int, stride: int) -> int:
  return -(-size // stride)


class Zero(nn.Module):
  """DARTS ``none``: zeros of shape (B, ⌈H/s⌉, ⌈W/s⌉, channels); no parameters, no gradient."""

  channels: int
  stride: int = 1

  def __call__(self, x: jax.Array, train: bool) -> jax.Array:
    del train
    batch, height, width, _ = x.shape
    return jnp.zeros(
      (batch, _reduced_size(height, self.stride), _reduced_size(width, self.stride), self.channels),
      x.dtype,
    )


class Identity(nn.Module):
  """DARTS ``skip_connect`` on a normal edge."""

  def __call__(self, x: jax.Array, train: bool) -> jax.Array:
    del train
    return x


class FactorizedReduce(nn.Module):
  """DARTS' reducing ``skip_connect``: ReLU → two 1×1 stride-2 convs → concat → BN.

  The first conv reads pixels (2i, 2j), the second the input shifted by one pixel, (2i + 1,
  2j + 1); each gives half the channels (the second ``channels − channels // 2``). On odd sizes,
  where PyTorch's version fails on mismatched shapes, the shifted path's missing last row/column
  is zero-padded so that both halves have ⌈H/2⌉ × ⌈W/2⌉ pixels.
  """

  channels: int
  affine: bool = True

  @nn.compact
  def __call__(self, x: jax.Array, train: bool) -> jax.Array:
    x = nn.relu(x)
    out_h, out_w = _reduced_size(x.shape[1], 2), _reduced_size(x.shape[2], 2)
    shifted = x[:, 1::2, 1::2, :]
    shifted = jnp.pad(
      shifted, ((0, 0), (0, out_h - shifted.shape[1]), (0, out_w - shifted.shape[2]), (0, 0))
    )
    half = self.channels // 2
    first = conv.PointwiseConv2D(half, stride=2, name="conv_1")(x)
    second = conv.PointwiseConv2D(self.channels - half, name="conv_2")(shifted)
    out = jnp.concatenate([first, second], axis=-1)
    return batch_norm.BatchNorm(self.affine, name="bn")(out, train)


class Pool(nn.Module):
  """``max_pool_3x3`` / ``avg_pool_3x3`` (average excludes padding), optionally followed by a
  non-affine BN — DARTS puts one after every pooling candidate inside a search mixed op."""

  kind: str  # 'max' or 'avg'
  stride: int = 1
  with_batch_norm: bool = False
  impl: pooling.PoolImpl = "taps"

  @nn.compact
  def __call__(self, x: jax.Array, train: bool) -> jax.Array:
    if self.kind == "max":
      out = pooling.max_pool(x, window=3, stride=self.stride, impl=self.impl)
    elif self.kind == "avg":
      out = pooling.avg_pool(x, window=3, stride=self.stride, impl=self.impl)
    else:
      raise ValueError(f"pool kind must be 'max' or 'avg', got {self.kind!r}")
    if self.with_batch_norm:
      out = batch_norm.BatchNorm(False, name="bn")(out, train)
    return out


class ReLUConvBN(nn.Module):
  """ReLU → dense kh×kw conv (stride, dilation, optional CDC θ) → BN: ``conv_kxk`` ops."""

  channels: int
  kernel_size: int | tuple[int, int] = 3
  stride: int = 1
  dilation: int = 1
  theta: float = 0.0
  affine: bool = True
  conv_impl: conv.ConvImpl = "auto"

  @nn.compact
  def __call__(self, x: jax.Array, train: bool) -> jax.Array:
    x = conv.Conv2D(
      self.channels,
      self.kernel_size,
      self.stride,
      self.dilation,
      self.theta,
      self.conv_impl,
      name="conv",
    )(nn.relu(x))
    return batch_norm.BatchNorm(self.affine, name="bn")(x, train)


class Conv7x1Then1x7(nn.Module):
  """DARTS ``conv_7x1_1x7``: ReLU → 1×7 conv (stride (1, s)) → 7×1 conv (stride (s, 1)) → BN."""

  channels: int
  stride: int = 1
  affine: bool = True
  conv_impl: conv.ConvImpl = "auto"

  @nn.compact
  def __call__(self, x: jax.Array, train: bool) -> jax.Array:
    x = nn.relu(x)
    x = conv.Conv2D(self.channels, (1, 7), (1, self.stride), impl=self.conv_impl, name="conv_1x7")(
      x
    )
    x = conv.Conv2D(self.channels, (7, 1), (self.stride, 1), impl=self.conv_impl, name="conv_7x1")(
      x
    )
    return batch_norm.BatchNorm(self.affine, name="bn")(x, train)


class DilConv(nn.Module):
  """ReLU → depthwise k×k (stride, dilation) → pointwise 1×1 → BN.

  DARTS ``dil_conv_kxk`` (dilation 2) and, with ``theta``, FD-NAS ``DilCDC``: both the depthwise
  and the pointwise conv are CDCs of that θ (the 1×1 one folds to w·(1 − θ)). Also one half of a
  ``SepConv``.
  """

  channels: int
  kernel_size: int = 3
  stride: int = 1
  dilation: int = 1
  theta: float = 0.0
  affine: bool = True
  conv_impl: conv.ConvImpl = "auto"

  @nn.compact
  def __call__(self, x: jax.Array, train: bool) -> jax.Array:
    x = conv.DepthwiseConv2D(
      self.kernel_size,
      self.stride,
      self.dilation,
      self.theta,
      impl=self.conv_impl,
      name="depthwise",
    )(nn.relu(x))
    x = conv.PointwiseConv2D(self.channels, theta=self.theta, name="pointwise")(x)
    return batch_norm.BatchNorm(self.affine, name="bn")(x, train)


class SepConv(nn.Module):
  """DARTS ``sep_conv_kxk``: two stacked ReLU → depthwise → pointwise → BN, the first strided.

  The first half keeps the input's channel count, the second maps to ``channels`` (as DARTS).
  With ``theta`` it is FD-NAS ``SepCDC`` (every conv, depthwise and pointwise, a CDC of θ). With
  ``dilation = 2`` it is ``dil_sep_conv_kxk`` of the ADD space: ADD lists "3×3 / 5×5 dilated
  separable convolution" beside "separable convolution"; it is read here as this same
  two-layer separable block with both depthwise convs dilated by 2. (DARTS' paper uses the same
  words for its one-layer ``dil_conv``; that reading is the ``dil_conv_kxk`` op.)
  """

  channels: int
  kernel_size: int = 3
  stride: int = 1
  dilation: int = 1
  theta: float = 0.0
  affine: bool = True
  conv_impl: conv.ConvImpl = "auto"

  @nn.compact
  def __call__(self, x: jax.Array, train: bool) -> jax.Array:
    x = DilConv(
      x.shape[-1],
      self.kernel_size,
      self.stride,
      self.dilation,
      self.theta,
      self.affine,
      self.conv_impl,
      name="first",
    )(x, train)
    return DilConv(
      self.channels,
      self.kernel_size,
      1,
      self.dilation,
      self.theta,
      self.affine,
      self.conv_impl,
      name="second",
    )(x, train)
