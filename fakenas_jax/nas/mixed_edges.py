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

Layout: inside, everything is channels-last — the sources side by side on the channel axis
(B, H, W, S·c), a family's intermediates (B, H', W', S·E·M·c), the weighted total
(B, H', W', S, E, c) — so that depthwise convs, batch norms, ReLUs and pools take their operands
as they are; the only transposes are one into that layout and one out of it per call (an
(S, E, M, B, …) layout cost two per stage and family). For the default FD-NAS weight step this
takes the StableHLO transposes from 1,362 to 1,094 (all ops 38,601 → 37,933;
scripts/benchmark_search.py).
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
  """One family (kind, k, dilation) of M members for S sources × E edges.

  Layout: channels-last throughout. The input is the S sources side by side on the channel
  axis, ``(B, H, W, S·c)`` (source-major); every intermediate is ``(B, H', W', S·E·M·c)`` with
  the channel index ((s·E + e)·M + m)·c + c′, so the depthwise convs, the batch norms (per
  channel over B, H, W) and the ReLUs act on it as it is, and the pointwise products contract
  the trailing c of a ``(B, H', W', S, E, M, c)`` view. No transposes between the stages (the
  earlier (S, E, M, B, H, W, c) layout needed two per stage). Returns ``(B, H', W', S, E, M, c)``.
  """

  kind: str
  kernel_size: int
  dilation: int
  thetas: tuple[float, ...]
  stride: int
  num_edges: int = 1

  def _depthwise(self, x, num_sources, name, stride):
    """x (B, H, W, S·c) → (B, H', W', S, c, E, M): each (s, e, m) its own depthwise kernel."""
    B, H, W, Sc = x.shape
    S, c = num_sources, Sc // num_sources
    E, M, k = self.num_edges, len(self.thetas), self.kernel_size
    kernel = self.param(name, _uniform(k * k), (k, k, S, c, E, M))
    kernel = cdc.fold_central_difference(kernel, jnp.asarray(self.thetas, x.dtype))
    out = conv.depthwise_conv(
      x, kernel.reshape(k, k, S * c, E * M), stride=stride, dilation=self.dilation
    )
    return out.reshape(out.shape[:3] + (S, c, E, M))

  def _depthwise_grouped(self, x, name):
    """x (B, H, W, S·E·M·c) → same shape, a stride-1 depthwise kernel per (s, e, m, c)."""
    S, E, M = x.shape[3:6]
    c, k = x.shape[-1], self.kernel_size
    kernel = self.param(name, _uniform(k * k), (k, k, S, E, M, c))
    kernel = cdc.fold_central_difference(kernel, jnp.asarray(self.thetas, x.dtype)[:, None])
    flat = x.reshape(x.shape[:3] + (-1,))
    out = conv.depthwise_conv(flat, kernel.reshape(k, k, S * E * M * c), dilation=self.dilation)
    return out.reshape(x.shape)

  def _pointwise(self, x, name, spec):
    """Per-(s, e, m) 1×1 convolution c → c; CDC of a 1×1 kernel is w·(1 − θ).

    `spec` is the einsum of the input view: 'bhwscem' (after the first depthwise conv, whose
    channel multiplier puts (e, m) last) or 'bhwsemc'. The output is (B, H, W, S, E, M, c).
    """
    S, E, M = (x.shape[3], x.shape[5], x.shape[6]) if spec == "bhwscem" else x.shape[3:6]
    c = x.shape[4] if spec == "bhwscem" else x.shape[-1]
    kernel = self.param(name, _uniform(c), (S, E, M, c, c))
    kernel = kernel * (1.0 - jnp.asarray(self.thetas, x.dtype))[:, None, None]
    return jnp.einsum(f"{spec},semcd->bhwsemd", x, kernel)

  def _bn(self, x, train, name):
    """Non-affine BN per (s, e, m, c) channel of a (B, H, W, S, E, M, c) tensor (no transpose)."""
    return _non_affine_bn(x.reshape(x.shape[:3] + (-1,)), train, name).reshape(x.shape)

  @nn.compact
  def __call__(self, x, num_sources, train):
    """x: ReLU-ed sources (B, H, W, S·c) → (B, H', W', S, E, M, c)."""
    S = num_sources
    if self.kind == "conv":
      B, H, W, Sc = x.shape
      c = Sc // S
      E, M, k = self.num_edges, len(self.thetas), self.kernel_size
      kernel = self.param("conv", _uniform(k * k * c), (k, k, S, c, E, M, c))
      kernel = cdc.fold_central_difference(kernel, jnp.asarray(self.thetas, x.dtype)[:, None])
      xs = x.reshape(B, H, W, S, c)
      outs = [
        conv.conv2d(xs[..., s, :], kernel[:, :, s].reshape(k, k, c, E * M * c), stride=self.stride)
        for s in range(S)
      ]
      out = jnp.stack(outs, axis=3)  # (B, H', W', S, E·M·c)
      return self._bn(out.reshape(out.shape[:4] + (E, M, c)), train, "bn")
    out = self._pointwise(self._depthwise(x, S, "dw1", self.stride), "pw1", "bhwscem")
    out = self._bn(out, train, "bn1")
    if self.kind == "sep_conv":
      out = nn.relu(out)
      out = self._pointwise(self._depthwise_grouped(out, "dw2"), "pw2", "bhwsemc")
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
    odd = odd[:, :, : even.shape[2], : even.shape[3]]
    w1 = self.param("conv1", _uniform(c), (S, self.num_edges, c, c // 2))
    w2 = self.param("conv2", _uniform(c), (S, self.num_edges, c, c // 2))
    out = jnp.concatenate(
      [jnp.einsum("sbhwc,secd->sebhwd", even, w1), jnp.einsum("sbhwc,secd->sebhwd", odd, w2)],
      axis=-1,
    )
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
      raise ValueError(
        f"weights {weights.shape} do not fit {S} sources x {E} edges x "
        f"{len(self.op_names)} operations"
      )
    Ho, Wo = -(-H // self.stride), -(-W // self.stride)
    # Channels-last accumulation (ConvFamily's layout): the sources side by side on the channel
    # axis, the total (B, H', W', S, E, c), transposed once to (S, E, B, H', W', c) at the end.
    flat = jnp.moveaxis(xs, 0, 3).reshape(B, H, W, S * c)
    relu = nn.relu(flat)
    total = None

    def add(total, term):
      return term if total is None else total + term

    specs = [registry.parse_op_name(name) for name in self.op_names]
    for (kind, kernel, dilation), members in families(self.op_names).items():
      out = ConvFamily(
        kind=kind,
        kernel_size=kernel,
        dilation=dilation,
        thetas=tuple(specs[m].theta for m in members),
        stride=self.stride,
        num_edges=E,
        name=f"{kind}_{kernel}x{kernel}_d{dilation}",
      )(relu, S, train)
      w = weights[:, :, jnp.asarray(members)]  # (S, E, M)
      total = add(total, jnp.einsum("sem,bhwsemc->bhwsec", w, out))

    def shared(pooled, index):  # (B, H', W', S·c) shared by the E edges, weighted per edge
      return pooled.reshape(B, Ho, Wo, S, 1, c) * weights[:, :, index, None]

    for index, spec in enumerate(specs):
      if spec.kind in ("max_pool", "avg_pool"):
        pool = pooling.max_pool if spec.kind == "max_pool" else pooling.avg_pool
        pooled = _non_affine_bn(
          pool(flat, window=spec.kernel_size, stride=self.stride), train, f"bn_{spec.name}"
        )
        total = add(total, shared(pooled, index))
      elif spec.kind == "skip_connect":
        if self.stride == 1:
          total = add(total, shared(flat, index))
        elif self.reducing_skip == "avg_pool":
          total = add(total, shared(pooling.avg_pool(flat, window=3, stride=self.stride), index))
        else:
          reduced = FactorizedReduceEdges(E, name="skip_reduce")(xs, train)
          total = add(
            total,
            jnp.moveaxis(reduced * weights[:, :, index, None, None, None, None], (0, 1), (3, 4)),
          )
    if total is None:
      return jnp.zeros((S, E, B, Ho, Wo, c), xs.dtype)
    return jnp.moveaxis(total, (3, 4), (0, 1))
