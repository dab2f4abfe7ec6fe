"""The mixed operations of all edges that leave the same source states, computed together.

A search cell has 14 edges; with partial channels (PC-DARTS) every edge leaving a state x sees
the same sampled channels x[..., :c], c = C/k. So the candidates of all those edges run on ONE
input, and candidates that differ only in their weights (the E edges) or in θ (the CDC variants
SepCDC_3x3_{0, .5, .7, .8}) are one family computed by one stacked convolution:

  depthwise conv with a channel multiplier E·M  →  a grouped pointwise product per (edge, member)
  →  one non-affine batch norm over all groups  →  …

which is exactly the separate convolutions of the separate operations (per-channel batch norm is
the same whether channels are computed apart or together). Parameter-free candidates are
computed once per source and shared by its edges (max/avg pool + non-affine BN, identity, the
FD-NAS reducing skip); `none` contributes nothing. The edge's mixed output is
Σ_o w[e, o] · o(x) (FD-NAS Eq. 6 with w = I of Eq. 5, or softmax(α) for DARTS).

Several sources with the same stride (the two cell inputs) are stacked on a leading axis S.
Shapes: xs (S, B, H, W, c), weights (S, E, n_ops) → (S, E, B, H', W', c).
"""
from __future__ import annotations

import collections
from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from fakenas_jax.nn import batch_norm, cdc, conv, pooling, registry

# Families of candidates computed by one stacked convolution.
_CONV_KINDS = ("sep_conv", "dil_conv", "conv")


def families(op_names: Sequence[str]) -> dict[tuple, list[int]]:
  """Convolution candidates grouped by (kind, kernel, dilation); members differ only in θ."""
  groups: dict[tuple, list[int]] = collections.OrderedDict()
  for index, name in enumerate(op_names):
    spec = registry.parse_op_name(name)
    if spec.kind in _CONV_KINDS:
      groups.setdefault((spec.kind, spec.kernel_size, spec.dilation), []).append(index)
    elif spec.kind not in ("none", "skip_connect", "max_pool", "avg_pool"):
      raise ValueError(f"operation {name!r} ({spec.kind}) has no fused search implementation")
  return groups


def _uniform(fan_in: int):
  return conv.torch_default_init(fan_in)


def _non_affine_bn(x, train, name):
  return batch_norm.BatchNorm(False, name=name)(x, train)


class ConvFamily(nn.Module):
  """One family (kind, k, dilation) of M members for S sources × E edges; returns (S,E,M,B,H',W',c)."""

  kind: str
  kernel_size: int
  dilation: int
  thetas: tuple[float, ...]
  stride: int
  num_edges: int = 1

  def _depthwise(self, x, name, stride):
    """x (S, B, H, W, c) → (S, E, M, B, H', W', c): each (s, e, m) its own depthwise kernel."""
    S, B, H, W, c = x.shape
    E, M, k = self.num_edges, len(self.thetas), self.kernel_size
    kernel = self.param(name, _uniform(k * k), (k, k, S, c, E, M))
    kernel = cdc.fold_central_difference(kernel, jnp.asarray(self.thetas, x.dtype))
    flat = jnp.moveaxis(x, 0, 3).reshape(B, H, W, S * c)
    out = conv.depthwise_conv(flat, kernel.reshape(k, k, S * c, E * M), stride=stride,
                              dilation=self.dilation)
    _, Ho, Wo, _ = out.shape
    return jnp.transpose(out.reshape(B, Ho, Wo, S, c, E, M), (3, 5, 6, 0, 1, 2, 4))

  def _depthwise_grouped(self, x, name):
    """x (S, E, M, B, H, W, c) → same shape, a stride-1 depthwise kernel per (s, e, m, c)."""
    S, E, M, B, H, W, c = x.shape
    k = self.kernel_size
    kernel = self.param(name, _uniform(k * k), (k, k, S, E, M, c))
    kernel = cdc.fold_central_difference(kernel, jnp.asarray(self.thetas, x.dtype)[:, None])
    flat = jnp.transpose(x, (3, 4, 5, 0, 1, 2, 6)).reshape(B, H, W, S * E * M * c)
    out = conv.depthwise_conv(flat, kernel.reshape(k, k, S * E * M * c), dilation=self.dilation)
    return jnp.transpose(out.reshape(B, H, W, S, E, M, c), (3, 4, 5, 0, 1, 2, 6))

  def _pointwise(self, x, name):
    """Per-(s, e, m) 1×1 convolution c → c; CDC of a 1×1 kernel is w·(1 − θ)."""
    S, E, M = x.shape[:3]
    c = x.shape[-1]
    kernel = self.param(name, _uniform(c), (S, E, M, c, c))
    kernel = kernel * (1.0 - jnp.asarray(self.thetas, x.dtype))[:, None, None]
    return jnp.einsum("semb...c,semcd->semb...d", x, kernel)

  def _bn(self, x, train, name):
    shape = x.shape
    flat = jnp.moveaxis(x, (0, 1, 2), (-4, -3, -2)).reshape(shape[3:6] + (-1,))
    out = _non_affine_bn(flat, train, name)
    return jnp.moveaxis(out.reshape(shape[3:6] + shape[:3] + shape[-1:]), (-4, -3, -2), (0, 1, 2))

  @nn.compact
  def __call__(self, x, train):
    x = nn.relu(x)
    if self.kind == "conv":
      S, B, H, W, c = x.shape
      E, M, k = self.num_edges, len(self.thetas), self.kernel_size
      kernel = self.param("conv", _uniform(k * k * c), (k, k, S, c, E, M, c))
      kernel = cdc.fold_central_difference(kernel, jnp.asarray(self.thetas, x.dtype)[:, None])
      outs = [conv.conv2d(x[s], kernel[:, :, s].reshape(k, k, c, E * M * c), stride=self.stride)
              for s in range(S)]
      out = jnp.stack(outs)  # (S, B, H', W', E·M·c)
      out = jnp.moveaxis(out.reshape(out.shape[:4] + (E, M, c)), (4, 5), (1, 2))
      return self._bn(out, train, "bn")
    out = self._pointwise(self._depthwise(x, "dw1", self.stride), "pw1")
    out = self._bn(out, train, "bn1")
    if self.kind == "sep_conv":
      out = nn.relu(out)
      out = self._pointwise(self._depthwise_grouped(out, "dw2"), "pw2")
      out = self._bn(out, train, "bn2")
    return out


class FactorizedReduceEdges(nn.Module):
  """DARTS' reducing skip for S sources × E edges: ReLU → two 1×1 stride-2 convs (the second on
  the input shifted by one pixel) → concat → non-affine BN. (S,B,H,W,c) → (S,E,B,H/2,W/2,c)."""

  num_edges: int

  @nn.compact
  def __call__(self, x, train):
    S, B, H, W, c = x.shape
    if c % 2:
      raise ValueError(f"FactorizedReduce needs an even channel count, got {c}")
    x = nn.relu(x)
    even = x[:, :, ::2, ::2, :]
    odd = jnp.pad(x, ((0, 0), (0, 0), (0, 1), (0, 1), (0, 0)))[:, :, 1::2, 1::2, :]
    odd = odd[:, :, :even.shape[2], :even.shape[3]]
    w1 = self.param("conv1", _uniform(c), (S, self.num_edges, c, c // 2))
    w2 = self.param("conv2", _uniform(c), (S, self.num_edges, c, c // 2))
    out = jnp.concatenate([jnp.einsum("sbhwc,secd->sebhwd", even, w1),
                           jnp.einsum("sbhwc,secd->sebhwd", odd, w2)], axis=-1)
    shape = out.shape
    flat = jnp.moveaxis(out, (0, 1), (-3, -2)).reshape(shape[2:5] + (-1,))
    flat = _non_affine_bn(flat, train, "bn")
    return jnp.moveaxis(flat.reshape(shape[2:5] + shape[:2] + shape[-1:]), (-3, -2), (0, 1))


class MixedEdges(nn.Module):
  """All mixed operations of E edges from each of S same-stride sources (module docstring)."""

  op_names: tuple[str, ...]
  num_edges: int
  stride: int
  reducing_skip: str = "factorized_reduce"

  @nn.compact
  def __call__(self, xs: jax.Array, weights: jax.Array, train: bool) -> jax.Array:
    S, B, H, W, c = xs.shape
    E = self.num_edges
    if weights.shape != (S, E, len(self.op_names)):
      raise ValueError(f"weights {weights.shape} do not fit {S} sources x {E} edges x "
                       f"{len(self.op_names)} operations")
    Ho, Wo = -(-H // self.stride), -(-W // self.stride)
    total = jnp.zeros((S, E, B, Ho, Wo, c), xs.dtype)
    specs = [registry.parse_op_name(name) for name in self.op_names]
    for (kind, kernel, dilation), members in families(self.op_names).items():
      out = ConvFamily(kind=kind, kernel_size=kernel, dilation=dilation,
                       thetas=tuple(specs[m].theta for m in members), stride=self.stride,
                       num_edges=E, name=f"{kind}_{kernel}x{kernel}_d{dilation}")(xs, train)
      w = weights[:, :, jnp.asarray(members)]  # (S, E, M)
      total = total + jnp.einsum("sem,semxyzc->sexyzc", w, out)
    flat = jnp.moveaxis(xs, 0, 3).reshape(B, H, W, S * c)
    for index, spec in enumerate(specs):
      if spec.kind in ("max_pool", "avg_pool"):
        pool = pooling.max_pool if spec.kind == "max_pool" else pooling.avg_pool
        pooled = _non_affine_bn(pool(flat, window=spec.kernel_size, stride=self.stride), train,
                                f"bn_{spec.name}")
        shared = jnp.moveaxis(pooled.reshape(B, Ho, Wo, S, c), 3, 0)[:, None]
        total = total + weights[:, :, index, None, None, None, None] * shared
      elif spec.kind == "skip_connect":
        if self.stride == 1:
          shared = xs[:, None]
        elif self.reducing_skip == "avg_pool":
          pooled = pooling.avg_pool(flat, window=3, stride=self.stride)
          shared = jnp.moveaxis(pooled.reshape(B, Ho, Wo, S, c), 3, 0)[:, None]
        else:
          shared = FactorizedReduceEdges(E, name="skip_reduce")(xs, train)
        total = total + weights[:, :, index, None, None, None, None] * shared
    return total
