r"""Micro-benchmark of the convolution primitives and candidate operations on this machine.

    python scripts/benchmark_ops.py                       # all levels, default shapes
    python scripts/benchmark_ops.py --levels=primitives --impls=xla,taps,banded
    python scripts/benchmark_ops.py --levels=edge --space=fdnas --impls=auto,taps,xla

Every row times ``jax.jit(jax.value_and_grad(loss))`` (forward and backward, as in training):
``compile_s`` is lowering + compilation, ``best_ms`` / ``median_ms`` the fastest / median of
``--steps`` steady steps.
Levels:

* ``primitives`` — one depthwise (3×3, 5×5 dilation 2, 3×3 stride 2), dense 3×3 and pointwise
  conv per shape and implementation.
* ``ops`` — every operation of ``--space`` as a Linen module (non-affine BN, train mode).
* ``edge`` — the unfused mixed op of one edge: all operations of ``--space`` on one input,
  weighted by softmax(α) and summed, as in a DARTS supernet.
* ``node`` — the ``--node_edges`` incoming edges of one cell node: a Python loop of edges vs the
  same edges as one ``nn.vmap`` over a stacked edge axis (compiled once, batched primitives).
* ``fused_edge`` — a prototype of a fused FD-NAS mixed op (benchmark only, ``FusedFdnasEdge``):
  the first depthwise convs of the 8 CDC candidates as ONE depthwise conv with 8 stacked 5×5
  kernels, their pointwise convs as one grouped product, one BN; the 4 second halves likewise.

Shapes are those of a PC-DARTS search (batch 32, 32×32 input, C = 16 → 32 → 64 with k = 8 partial
channels: 2 channels at 32×32, 4 at 16×16, 8 at 8×8) unless ``--shapes`` says otherwise
(``H:C`` pairs). The persistent compilation cache is off, so compile times are real.
"""

from __future__ import annotations

import statistics
import time

import flax.linen as nn
import jax
import jax.numpy as jnp
from absl import app, flags

from fakenas_jax.nn import batch_norm, cdc, conv, pooling, registry

_LEVELS = flags.DEFINE_list(
  "levels",
  ["primitives", "ops", "edge", "node", "fused_edge"],
  "Which benchmarks: primitives, ops, edge, node, fused_edge.",
)
_IMPLS = flags.DEFINE_list(
  "impls", ["xla", "taps", "banded", "auto"], "Convolution implementations to compare."
)
_SPACE = flags.DEFINE_string("space", "fdnas", "Search space of the ops / edge levels.")
_BATCH = flags.DEFINE_integer("batch", 32, "Batch size.")
_SHAPES = flags.DEFINE_list(
  "shapes", ["32:2", "16:4", "8:8"], "Spatial size:channels pairs of the op inputs."
)
_STRIDES = flags.DEFINE_list("strides", ["1", "2"], "Edge strides (2 = reducing edge).")
_STEPS = flags.DEFINE_integer("steps", 50, "Timed steady steps per row.")
_NODE_EDGES = flags.DEFINE_integer("node_edges", 5, "Incoming edges of the node (level node).")


def _time(fn, *args) -> tuple[float, float, float]:
  """(compile seconds, fastest and median steady step in ms) of a jitted function.

  The fastest step is the better estimate on a shared machine (other processes only add time).
  """
  start = time.perf_counter()
  compiled = jax.jit(fn).lower(*args).compile()
  compile_s = time.perf_counter() - start
  jax.block_until_ready(compiled(*args))
  times = []
  for _ in range(_STEPS.value):
    start = time.perf_counter()
    jax.block_until_ready(compiled(*args))
    times.append(time.perf_counter() - start)
  return compile_s, 1e3 * min(times), 1e3 * statistics.median(times)


def _row(
  level: str, what: str, shape: str, impl: str, compile_s: float, best_ms: float, median_ms: float
):
  print(
    f"{level:<10} {what:<24} {shape:<18} {impl:<7} {compile_s:9.2f} {best_ms:9.3f} "
    f"{median_ms:9.3f}",
    flush=True,
  )


def _value_and_grad(forward, *args):
  """Times value_and_grad of a fixed linear read-out of ``forward(*args)`` w.r.t. all args.

  The read-out weights are an argument, so the loss adds one dot product and no constants.
  """
  out_shape = jax.eval_shape(forward, *args)
  readout = jnp.cos(jnp.arange(out_shape.size, dtype=out_shape.dtype)).reshape(out_shape.shape)
  loss = lambda readout, *args: jnp.vdot(readout, forward(*args))
  return _time(jax.value_and_grad(loss, argnums=tuple(range(1, len(args) + 1))), readout, *args)


def _shapes():
  for pair in _SHAPES.value:
    size, channels = (int(v) for v in pair.split(":"))
    yield size, channels


def bench_primitives():
  key = jax.random.key(0)
  cases = (("dw3x3", 3, 1, 1), ("dw5x5_d2", 5, 1, 2), ("dw3x3_s2", 3, 2, 1))
  for size, channels in _shapes():
    x = jax.random.normal(key, (_BATCH.value, size, size, channels))
    shape = f"{_BATCH.value}x{size}x{size}x{channels}"
    for what, kernel_size, stride, dilation in cases:
      kernel = jax.random.normal(key, (kernel_size, kernel_size, channels))
      for impl in _IMPLS.value:
        forward = lambda x, k, impl=impl, s=stride, d=dilation: conv.depthwise_conv(
          x, k, stride=s, dilation=d, impl=impl
        )
        _row("primitive", what, shape, impl, *_value_and_grad(forward, x, kernel))
    for multiplier in (4, 8):
      kernel = jax.random.normal(key, (3, 3, channels, multiplier))
      for impl in _IMPLS.value:
        forward = lambda x, k, impl=impl: conv.depthwise_conv(x, k, impl=impl)
        _row("primitive", f"dw3x3_x{multiplier}", shape, impl, *_value_and_grad(forward, x, kernel))
    kernel = jax.random.normal(key, (3, 3, channels, channels))
    for impl in _IMPLS.value:
      forward = lambda x, k, impl=impl: conv.conv2d(x, k, impl=impl)
      _row("primitive", "conv3x3", shape, impl, *_value_and_grad(forward, x, kernel))
    kernel = jax.random.normal(key, (channels, channels))
    _row("primitive", "pointwise", shape, "-", *_value_and_grad(conv.pointwise_conv, x, kernel))


def _train_forward(module, variables):
  """(forward(params, x), params): the module in train mode, batch statistics discarded."""
  batch_stats = variables.get("batch_stats", {})

  def forward(params, x):
    out, _ = module.apply(
      {"params": params, "batch_stats": batch_stats}, x, True, mutable=["batch_stats"]
    )
    return out

  return forward, variables.get("params", {})


def bench_ops():
  space = registry.search_space(_SPACE.value)
  key = jax.random.key(0)
  for size, channels in _shapes():
    x = jax.random.normal(key, (_BATCH.value, size, size, channels))
    for stride in (int(s) for s in _STRIDES.value):
      shape = f"{_BATCH.value}x{size}x{size}x{channels}/s{stride}"
      for name in space:
        spec = registry.parse_op_name(name)
        impls = _IMPLS.value if spec.has_parameters else ["-"]
        for impl in impls:
          module = space.make_op(
            name,
            channels,
            stride,
            affine=False,
            pool_batch_norm=True,
            **({} if impl == "-" else {"conv_impl": impl}),
          )
          variables = module.init(key, x, True)
          forward, params = _train_forward(module, variables)
          _row("op", name, shape, impl, *_value_and_grad(forward, params, x))


class UnfusedEdge(nn.Module):
  """All candidates of one edge on one input, softmax(α)-weighted and summed (DARTS Eq. 2)."""

  space: registry.SearchSpace
  channels: int
  stride: int
  impl: str

  @nn.compact
  def __call__(self, x, train):
    alpha = self.param("alpha", nn.initializers.normal(1e-3), (len(self.space),))
    weights = jax.nn.softmax(alpha)
    outs = [
      self.space.make_op(
        name,
        self.channels,
        self.stride,
        affine=False,
        pool_batch_norm=True,
        conv_impl=self.impl,
        module_name=f"op_{index}",
      )(x, train)
      for index, name in enumerate(self.space)
    ]
    return sum(w * o for w, o in zip(weights, outs))


class LoopedNode(nn.Module):
  """A node's incoming (normal) edges one after the other; x is (E, B, H, W, C)."""

  space: registry.SearchSpace
  channels: int
  impl: str

  @nn.compact
  def __call__(self, x, train):
    return sum(
      UnfusedEdge(self.space, self.channels, 1, self.impl, name=f"edge_{e}")(x[e], train)
      for e in range(x.shape[0])
    )


class VmappedNode(nn.Module):
  """The same edges as one ``nn.vmap`` over the stacked edge axis."""

  space: registry.SearchSpace
  channels: int
  impl: str

  @nn.compact
  def __call__(self, x, train):
    edges = nn.vmap(
      UnfusedEdge,
      variable_axes={"params": 0, "batch_stats": 0},
      split_rngs={"params": True},
      in_axes=(0, None),
    )
    return edges(self.space, self.channels, 1, self.impl, name="edges")(x, train).sum(axis=0)


class FusedFdnasEdge(nn.Module):
  """Prototype of a fused FD-NAS mixed op (same candidates as ``UnfusedEdge`` on 'fdnas').

  SepCDC_3x3_θ and DilCDC_3x3_θ, θ ∈ (0, .5, .7, .8): their first depthwise kernels (the dilated
  ones as 5×5 with zeros at odd taps, the others padded to 5×5), CDC-folded with their θ, run as
  one depthwise conv with multiplier 8; the 8 pointwise convs as one grouped (block-diagonal)
  product; one BN over the 8·C channels. The 4 SepCDC second halves: one depthwise conv on
  4·C channels, one grouped pointwise, one BN. Plus max pool + BN, skip, none.
  """

  channels: int
  stride: int
  impl: str
  thetas: tuple[float, ...] = (0.0, 0.5, 0.7, 0.8)

  @nn.compact
  def __call__(self, x, train):
    c = x.shape[-1]
    groups = len(self.thetas)
    theta = jnp.asarray(self.thetas)
    weights = jax.nn.softmax(self.param("alpha", nn.initializers.normal(1e-3), (11,)))
    dw_init, pw_init = conv.torch_default_init(9), conv.torch_default_init(c)
    sep_first = cdc.fold_central_difference(
      self.param("sep_dw1", dw_init, (3, 3, c, groups)), theta
    )
    dil = cdc.fold_central_difference(self.param("dil_dw", dw_init, (3, 3, c, groups)), theta)
    stacked = jnp.concatenate(
      [
        jnp.pad(sep_first, ((1, 1), (1, 1), (0, 0), (0, 0))),
        jax.lax.pad(dil, jnp.zeros((), dil.dtype), ((0, 0, 1), (0, 0, 1), (0, 0, 0), (0, 0, 0))),
      ],
      axis=-1,
    )
    y = conv.depthwise_conv(nn.relu(x), stacked, stride=self.stride, impl=self.impl)
    y = y.reshape(y.shape[:3] + (c, 2 * groups)).swapaxes(-1, -2).reshape(y.shape)
    pointwise_first = self.param("pw1", pw_init, (2 * groups, c, c))
    y = conv.pointwise_conv(y, pointwise_first * jnp.tile(1 - theta, 2)[:, None, None])
    y = batch_norm.BatchNorm(False, name="bn1")(y, train)
    sep_middle, dil_out = y[..., : groups * c], y[..., groups * c :]
    sep_second = cdc.fold_central_difference(
      self.param("sep_dw2", dw_init, (3, 3, groups * c)), jnp.repeat(theta, c)
    )
    z = conv.depthwise_conv(nn.relu(sep_middle), sep_second, impl=self.impl)
    pointwise_second = self.param("pw2", pw_init, (groups, c, c))
    z = conv.pointwise_conv(z, pointwise_second * (1 - theta)[:, None, None])
    z = batch_norm.BatchNorm(False, name="bn2")(z, train)
    per_candidate = lambda t: t.reshape(t.shape[:3] + (groups, c))
    out = jnp.einsum("bhwgc,g->bhwc", per_candidate(z), weights[1 : 1 + groups])
    out += jnp.einsum("bhwgc,g->bhwc", per_candidate(dil_out), weights[1 + groups : 1 + 2 * groups])
    pooled = pooling.max_pool(x, stride=self.stride)
    out += weights[0] * batch_norm.BatchNorm(False, name="bn_pool")(pooled, train)
    skip = x if self.stride == 1 else pooling.avg_pool(x, stride=2)
    return out + weights[9] * skip


def bench_fused_edge():
  space = registry.search_space("fdnas")
  key = jax.random.key(0)
  for size, channels in _shapes():
    x = jax.random.normal(key, (_BATCH.value, size, size, channels))
    for stride in (int(s) for s in _STRIDES.value):
      shape = f"{_BATCH.value}x{size}x{size}x{channels}/s{stride}"
      for impl in _IMPLS.value:
        for label, module in (
          ("unfused", UnfusedEdge(space, channels, stride, impl)),
          ("fused", FusedFdnasEdge(channels, stride, impl)),
        ):
          variables = module.init(key, x, True)
          forward, params = _train_forward(module, variables)
          _row("edge", f"fdnas {label}", shape, impl, *_value_and_grad(forward, params, x))


def bench_edge():
  space = registry.search_space(_SPACE.value)
  key = jax.random.key(0)
  for size, channels in _shapes():
    x = jax.random.normal(key, (_BATCH.value, size, size, channels))
    for stride in (int(s) for s in _STRIDES.value):
      shape = f"{_BATCH.value}x{size}x{size}x{channels}/s{stride}"
      for impl in _IMPLS.value:
        module = UnfusedEdge(space, channels, stride, impl)
        variables = module.init(key, x, True)
        forward, params = _train_forward(module, variables)
        _row(
          "edge",
          f"{space.name} ({len(space)} ops)",
          shape,
          impl,
          *_value_and_grad(forward, params, x),
        )


def bench_node():
  space = registry.search_space(_SPACE.value)
  key = jax.random.key(0)
  num_edges = _NODE_EDGES.value
  for size, channels in _shapes():
    x = jax.random.normal(key, (num_edges, _BATCH.value, size, size, channels))
    shape = f"{num_edges}x{_BATCH.value}x{size}x{size}x{channels}"
    for impl in _IMPLS.value:
      for label, node in (("loop", LoopedNode), ("vmap", VmappedNode)):
        module = node(space, channels, impl)
        variables = module.init(key, x, True)
        forward, params = _train_forward(module, variables)
        _row(
          "node",
          f"{space.name} {num_edges} edges {label}",
          shape,
          impl,
          *_value_and_grad(forward, params, x),
        )


def main(argv):
  del argv
  jax.config.update("jax_enable_compilation_cache", False)
  print(f"jax {jax.__version__} on {jax.devices()[0].device_kind}, {_STEPS.value} steps per row")
  print(
    f"{'level':<10} {'what':<24} {'shape':<18} {'impl':<7} {'compile_s':>9} {'best_ms':>9} "
    f"{'median_ms':>9}"
  )
  benches = {
    "primitives": bench_primitives,
    "ops": bench_ops,
    "edge": bench_edge,
    "node": bench_node,
    "fused_edge": bench_fused_edge,
  }
  for level in _LEVELS.value:
    benches[level]()


if __name__ == "__main__":
  app.run(main)
