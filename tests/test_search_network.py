"""The supernet: fused mixed edges against the operations' definitions; shapes; arch gradients."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from fakenas_jax.nas import mixed_edges
from fakenas_jax.nas import supernet as search_network

OPS = ("none", "max_pool_3x3", "skip_connect", "SepCDC_3x3_0.0", "SepCDC_3x3_0.7", "DilCDC_3x3_0.5")


def _conv(x, w, stride=1, dilation=1, groups=1):
  k = w.shape[0]
  pad = (k - 1) // 2 * dilation
  return lax.conv_general_dilated(
    x,
    w,
    (stride, stride),
    [(pad, pad), (pad, pad)],
    rhs_dilation=(dilation, dilation),
    dimension_numbers=("NHWC", "HWIO", "NHWC"),
    feature_group_count=groups,
    precision="highest",
  )


def _cdc_depthwise(x, w, theta, stride=1, dilation=1):
  """Depthwise CDC by its two-convolution definition: conv(x, w) − θ·conv1×1(x, Σw)."""
  c = x.shape[-1]
  plain = _conv(x, w[:, :, None, :], stride, dilation, groups=c)
  centre = _conv(x, w.sum((0, 1))[None, None, None, :], stride, 1, groups=c)
  return plain - theta * centre


def _bn(x):
  mean = x.mean((0, 1, 2))
  var = x.var((0, 1, 2))
  return (x - mean) / jnp.sqrt(var + 1e-5)


def test_fused_edges_equal_each_operation_alone():
  """One-hot weights pick one (source, edge, op); compare with the op written out by hand."""
  S, E, B, H, c = 2, 3, 4, 8, 4
  xs = jax.random.normal(jax.random.key(0), (S, B, H, H, c))
  module = mixed_edges.MixedEdges(OPS, E, stride=1)
  variables = jax.jit(lambda key: module.init(key, xs, jnp.zeros((S, E, len(OPS))), True))(
    jax.random.key(1)
  )
  params = variables["params"]
  apply = jax.jit(lambda w: module.apply(variables, xs, w, True, mutable=["batch_stats"])[0])

  def run(op_index):
    return apply(jax.nn.one_hot(jnp.full((S, E), op_index), len(OPS)))

  s, e = 1, 2
  x = xs[s]
  # SepCDC_3x3_0.7 (member 1 of the sep family).
  fam = params["sep_conv_3x3_d1"]
  m, theta = 1, 0.7
  h = _cdc_depthwise(jax.nn.relu(x), fam["dw1"][:, :, s, :, e, m], theta)
  h = _bn(h @ (fam["pw1"][s, e, m] * (1 - theta)))
  h = _cdc_depthwise(jax.nn.relu(h), fam["dw2"][:, :, s, e, m, :], theta)
  h = _bn(h @ (fam["pw2"][s, e, m] * (1 - theta)))
  np.testing.assert_allclose(run(OPS.index("SepCDC_3x3_0.7"))[s, e], h, rtol=2e-4, atol=2e-4)
  # DilCDC_3x3_0.5.
  fam = params["dil_conv_3x3_d2"]
  h = _cdc_depthwise(jax.nn.relu(x), fam["dw1"][:, :, s, :, e, 0], 0.5, dilation=2)
  h = _bn(h @ (fam["pw1"][s, e, 0] * 0.5))
  np.testing.assert_allclose(run(OPS.index("DilCDC_3x3_0.5"))[s, e], h, rtol=2e-4, atol=2e-4)
  # Parameter-free candidates.
  np.testing.assert_allclose(run(OPS.index("skip_connect"))[s, e], x, rtol=1e-6)
  pooled = lax.reduce_window(
    x, -jnp.inf, lax.max, (1, 3, 3, 1), (1, 1, 1, 1), ((0, 0), (1, 1), (1, 1), (0, 0))
  )
  np.testing.assert_allclose(
    run(OPS.index("max_pool_3x3"))[s, e], _bn(pooled), rtol=2e-4, atol=2e-4
  )
  assert not np.asarray(run(OPS.index("none"))).any()


def test_reducing_edges_halve_the_resolution():
  xs = jax.random.normal(jax.random.key(0), (2, 2, 9, 9, 4))
  for skip in ("factorized_reduce", "avg_pool"):
    module = mixed_edges.MixedEdges(OPS, 4, stride=2, reducing_skip=skip)
    weights = jnp.full((2, 4, len(OPS)), 1.0 / len(OPS))
    out, _ = jax.jit(lambda key: module.init_with_output(key, xs, weights, True))(
      jax.random.key(1, impl="rbg")
    )
    assert out.shape == (2, 4, 2, 5, 5, 4)


def test_the_bypass_pool_is_pytorchs_on_even_sizes_and_ceil_mode_on_odd_ones():
  x = jax.random.normal(jax.random.key(0), (2, 7, 6, 3))
  pooled = np.asarray(search_network.max_pool_2x2(x))
  assert pooled.shape == (2, 4, 3, 3)
  x = np.asarray(x)
  for i in range(4):
    for j in range(3):
      np.testing.assert_array_equal(
        pooled[:, i, j], x[:, 2 * i : 2 * i + 2, 2 * j : 2 * j + 2].max((1, 2))
      )
  even = np.asarray(search_network.max_pool_2x2(jnp.asarray(x[:, :6])))
  np.testing.assert_array_equal(even, pooled[:, :3])


def test_a_supernet_on_an_odd_sized_input():
  """A 1-channel (F, T) map with odd T (speech LFCC, CIFAR stem) through a reducing cell."""
  net = search_network.SearchNetwork(OPS, layout="NR", channels=8, k=4, num_classes=2)
  x = jax.random.normal(jax.random.key(0), (2, 12, 15, 1))
  variables = jax.jit(lambda key: net.init(key, x))(jax.random.key(1, impl="rbg"))
  logits, _ = jax.jit(lambda v: net.apply(v, x, mutable=["batch_stats"]))(variables)
  assert logits.shape == (2, 2) and np.isfinite(np.asarray(logits)).all()


def test_channel_shuffle_follows_its_definition():
  x = jnp.arange(8.0).reshape(1, 1, 1, 8)
  # groups=4: channel g·2 + i → position i·4 + g.
  np.testing.assert_array_equal(
    search_network.channel_shuffle(x, 4)[0, 0, 0], [0, 2, 4, 6, 1, 3, 5, 7]
  )


@functools.lru_cache(maxsize=None)
def _tiny():
  net = search_network.SearchNetwork(OPS, layout="NR", channels=8, k=2, num_classes=2)
  x = jax.random.normal(jax.random.key(0), (4, 16, 16, 3))
  variables = jax.jit(lambda key: net.init(key, x))(jax.random.key(1, impl="rbg"))
  return net, x, variables


def test_network_shapes_and_arch_collection():
  net, x, variables = _tiny()
  assert variables["arch"]["alpha"].shape == (2, 14, len(OPS))
  assert variables["arch"]["beta"].shape == (2, 14)
  logits, _ = jax.jit(lambda v: net.apply(v, x, mutable=["batch_stats"]))(variables)
  assert logits.shape == (4, 2)


def test_architecture_gradients_reach_alpha_and_beta():
  net, x, variables = _tiny()
  labels = jnp.array([0, 1, 0, 1])

  def loss(arch):
    logits, _ = net.apply({**variables, "arch": arch}, x, mutable=["batch_stats"])
    return -jnp.take_along_axis(jax.nn.log_softmax(logits), labels[:, None], 1).mean()

  grads = jax.jit(jax.grad(loss))(variables["arch"])
  assert np.abs(np.asarray(grads["alpha"])).sum() > 0
  assert np.abs(np.asarray(grads["beta"])).sum() > 0


def test_overrides_and_pruning_masks_change_the_output():
  net, x, variables = _tiny()
  apply = jax.jit(lambda **kw: net.apply(variables, x, mutable=["batch_stats"], **kw)[0])
  base = apply()
  mask = jnp.zeros((2, 14), bool).at[0, 3].set(True)
  one_hot = jax.nn.one_hot(jnp.full((2, 14), OPS.index("SepCDC_3x3_0.7")), len(OPS))
  assert not np.allclose(apply(override_weights=one_hot, override_mask=mask), base)
  active = jnp.ones((2, 14, len(OPS)), bool).at[..., OPS.index("skip_connect")].set(False)
  assert not np.allclose(apply(active=active), base)


@pytest.mark.parametrize("space", ["fdnas", "add", "darts"])
def test_every_search_space_runs_in_the_fused_edges(space):
  from fakenas_jax.nn import registry

  ops = registry.SEARCH_SPACES[space]
  module = mixed_edges.MixedEdges(
    ops, 2, stride=2, reducing_skip=registry.SPACE_REDUCING_SKIP[space]
  )
  xs = jnp.ones((2, 2, 8, 8, 4))
  weights = jnp.ones((2, 2, len(ops))) / len(ops)
  out, _ = jax.jit(lambda key: module.init_with_output(key, xs, weights, True))(
    jax.random.key(0, impl="rbg")
  )
  assert out.shape == (2, 2, 2, 4, 4, 4) and np.isfinite(np.asarray(out)).all()


def test_the_bypass_pool_gradient_goes_to_the_first_maximum_as_reduce_window_does():
  """The bypass pool (shifted slices) against lax.reduce_window, values and gradients, with
  ties (a ReLU-ed input) and an odd size (ceil mode)."""
  x = jax.nn.relu(jax.random.normal(jax.random.key(3), (2, 7, 6, 5)))
  cotangent = jax.random.normal(jax.random.key(4), (2, 4, 3, 5))

  def reference(x):
    padding = ((0, 0), (0, 1), (0, 0), (0, 0))
    return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1), padding)

  got, got_vjp = jax.vjp(search_network.max_pool_2x2, x)
  want, want_vjp = jax.vjp(reference, x)
  np.testing.assert_array_equal(got, want)
  np.testing.assert_array_equal(got_vjp(cotangent)[0], want_vjp(cotangent)[0])
