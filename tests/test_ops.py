"""The candidate operations: shapes, strides, definitions against NumPy/lax references."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from fakenas_jax.nn import batch_norm, ops, pooling, registry

CHANNELS = 4
ALL_OPS = sorted(
  set(itertools.chain(*registry.SEARCH_SPACES.values()))
  | {"conv_1x1", "conv_7x1_1x7", "sep_conv_7x7", "dil_sep_conv_3x3"}
)


def _random(shape, seed):
  return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def _apply(module, x, train=True, variables=None):
  if variables is None:
    variables = module.init(jax.random.key(0), x, train)
  out, _ = module.apply(variables, x, train, mutable=["batch_stats"])
  return out, variables


def _count(variables, collection="params"):
  return sum(leaf.size for leaf in jax.tree.leaves(variables.get(collection, {})))


@pytest.mark.parametrize("stride,size", [(1, 7), (1, 8), (2, 7), (2, 8)])
@pytest.mark.parametrize("name", ALL_OPS)
def test_every_op_keeps_channels_and_divides_size_by_stride(name, stride, size):
  """Shapes only (abstract evaluation); the values are checked by the tests below."""
  x = jnp.asarray(_random((2, size, size, CHANNELS), 0))
  for reducing_skip in (
    registry.REDUCING_SKIPS if name == "skip_connect" else ("factorized_reduce",)
  ):
    op = registry.make_op(
      name, CHANNELS, stride, affine=stride == 2, pool_batch_norm=True, reducing_skip=reducing_skip
    )
    out, _ = jax.eval_shape(lambda x: op.init_with_output(jax.random.key(0), x, True), x)
    expected = -(-size // stride)
    assert out.shape == (2, expected, expected, CHANNELS), (name, reducing_skip)


@pytest.mark.parametrize("stride", [1, 2])
def test_none_gives_zeros(stride):
  x = jnp.asarray(_random((2, 7, 7, CHANNELS), 1))
  out, variables = _apply(registry.make_op("none", CHANNELS, stride, affine=False), x)
  assert out.shape == (2, 4 if stride == 2 else 7, 4 if stride == 2 else 7, CHANNELS)
  assert not np.any(out) and _count(variables) == 0


def test_skip_connect_is_identity_on_normal_edges():
  x = jnp.asarray(_random((2, 5, 5, CHANNELS), 2))
  out, _ = _apply(registry.make_op("skip_connect", CHANNELS, 1, affine=True), x)
  np.testing.assert_array_equal(out, x)


@pytest.mark.parametrize(
  "name,affine,expected",
  [
    ("sep_conv_3x3", True, 2 * (9 * 4 + 4 * 4 + 2 * 4)),
    ("sep_conv_3x3", False, 2 * (9 * 4 + 4 * 4)),
    ("sep_conv_5x5", True, 2 * (25 * 4 + 4 * 4 + 2 * 4)),
    ("SepCDC_3x3_0.7", True, 2 * (9 * 4 + 4 * 4 + 2 * 4)),
    ("dil_conv_3x3", True, 9 * 4 + 4 * 4 + 2 * 4),
    ("DilCDC_3x3_0.5", False, 9 * 4 + 4 * 4),
    ("dil_conv_5x5", True, 25 * 4 + 4 * 4 + 2 * 4),
    ("conv_3x3", True, 9 * 4 * 4 + 2 * 4),
    ("conv_7x1_1x7", True, 2 * 7 * 4 * 4 + 2 * 4),
    ("skip_connect", True, 2 * (4 * 2) + 2 * 4),  # stride 2: FactorizedReduce
    ("max_pool_3x3", True, 0),
  ],
)
def test_parameter_counts_match_hand_counts(name, affine, expected):
  x = jnp.zeros((1, 8, 8, CHANNELS))
  variables = registry.make_op(name, CHANNELS, 2, affine=affine).init(jax.random.key(0), x, True)
  assert _count(variables) == expected


# ---- pooling against NumPy.


def _reference_pool(x, stride, kind):
  batch, height, width, channels = x.shape
  out_h, out_w = (height - 1) // stride + 1, (width - 1) // stride + 1
  out = np.zeros((batch, out_h, out_w, channels), np.float32)
  for i in range(out_h):
    for j in range(out_w):
      rows = slice(max(i * stride - 1, 0), min(i * stride + 2, height))
      cols = slice(max(j * stride - 1, 0), min(j * stride + 2, width))
      window = x[:, rows, cols, :]
      out[:, i, j] = window.max(axis=(1, 2)) if kind == "max" else window.mean(axis=(1, 2))
  return out


@pytest.mark.parametrize("impl", ["taps", "xla"])
@pytest.mark.parametrize("stride,height,width", [(1, 7, 8), (2, 7, 8), (2, 8, 8), (2, 9, 9)])
def test_pooling_matches_pytorch_definition(impl, stride, height, width):
  x = _random((2, height, width, 3), 3)
  np.testing.assert_allclose(
    pooling.avg_pool(jnp.asarray(x), stride=stride, impl=impl),
    _reference_pool(x, stride, "avg"),
    rtol=1e-5,
    atol=1e-6,
  )
  np.testing.assert_allclose(
    pooling.max_pool(jnp.asarray(x), stride=stride, impl=impl),
    _reference_pool(x, stride, "max"),
    rtol=1e-6,
  )


def test_average_excludes_padding():
  counts = pooling.valid_counts(4, 5)
  assert counts[0, 0] == 4 and counts[0, 2] == 6 and counts[1, 1] == 9
  out = pooling.avg_pool(jnp.ones((1, 4, 5, 1)), stride=2)
  np.testing.assert_allclose(out, np.ones((1, 2, 3, 1)))


def test_max_pool_gradient_goes_to_first_maximum_and_supports_forward_mode():
  x = jnp.zeros((1, 3, 3, 1))  # every window is a tie: PyTorch routes to its first pixel.
  grad = jax.grad(lambda x: pooling.max_pool(x, stride=1).sum())(x)
  np.testing.assert_array_equal(grad[0, :, :, 0], [[4, 2, 0], [2, 1, 0], [0, 0, 0]])
  grad = jax.grad(lambda x: pooling.max_pool(x, stride=2).sum())(x)
  np.testing.assert_array_equal(grad[0, :, :, 0], [[1, 1, 0], [1, 1, 0], [0, 0, 0]])
  x = jnp.asarray(_random((2, 6, 7, 2), 4))
  tangent = jnp.asarray(_random(x.shape, 5))
  f = lambda impl: lambda x: jnp.sum(jnp.sin(pooling.max_pool(x, stride=2, impl=impl)))
  hvp = lambda impl: jax.jit(lambda x, t: jax.jvp(jax.grad(f(impl)), (x,), (t,))[1])
  taps_hvp, xla_hvp = hvp("taps")(x, tangent), hvp("xla")(x, tangent)
  np.testing.assert_allclose(taps_hvp, xla_hvp, rtol=1e-5, atol=1e-5)


def test_pooling_batch_norm_option_is_non_affine():
  x = jnp.asarray(_random((2, 6, 6, CHANNELS), 6))
  for name in ("max_pool_3x3", "avg_pool_3x3"):
    with_bn = registry.make_op(name, CHANNELS, 1, affine=True, pool_batch_norm=True)
    variables = with_bn.init(jax.random.key(0), x, True)
    assert _count(variables) == 0 and _count(variables, "batch_stats") == 2 * CHANNELS
    out, _ = _apply(with_bn, x)
    np.testing.assert_allclose(out.mean(axis=(0, 1, 2)), 0.0, atol=1e-5)
    plain = registry.make_op(name, CHANNELS, 1, affine=True)
    assert "batch_stats" not in plain.init(jax.random.key(0), x, True)


def test_fdnas_reducing_skip_is_average_pool_excluding_padding():
  x = _random((2, 7, 8, CHANNELS), 7)
  op = registry.search_space("fdnas").make_op("skip_connect", CHANNELS, 2, affine=False)
  out, variables = _apply(op, jnp.asarray(x))
  assert _count(variables) == 0
  np.testing.assert_allclose(out, _reference_pool(x, 2, "avg"), rtol=1e-5, atol=1e-6)


# ---- FactorizedReduce and batch norm.


@pytest.mark.parametrize("size", [8, 7])
def test_factorized_reduce_shifts_the_second_path_by_one_pixel(size):
  x = _random((2, size, size, CHANNELS), 8)
  op = ops.FactorizedReduce(CHANNELS, affine=True)
  variables = op.init(jax.random.key(0), jnp.asarray(x), True)
  params = variables["params"]
  kernel_1 = np.asarray(params["conv_1"]["kernel"])
  kernel_2 = np.asarray(params["conv_2"]["kernel"])
  out = op.apply(variables, jnp.asarray(x), False)  # fresh running stats: mean 0, var 1
  relu = np.maximum(x, 0)
  half = (size + 1) // 2
  shifted = np.zeros((2, half, half, CHANNELS), np.float32)
  shifted[:, : size // 2, : size // 2] = relu[:, 1::2, 1::2]  # zero-padded when size is odd
  expected = np.concatenate([relu[:, ::2, ::2] @ kernel_1, shifted @ kernel_2], -1)
  np.testing.assert_allclose(out, expected / np.sqrt(1 + 1e-5), rtol=1e-4, atol=1e-5)


def test_batch_norm_follows_pytorch_momentum_and_unbiased_running_variance():
  x = _random((4, 3, 3, 2), 9) * 3 + 1
  bn = batch_norm.BatchNorm(affine=False)
  variables = bn.init(jax.random.key(0), jnp.asarray(x), True)
  assert _count(variables) == 0
  out, updates = bn.apply(variables, jnp.asarray(x), True, mutable=["batch_stats"])
  mean, var = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))
  np.testing.assert_allclose(out, (x - mean) / np.sqrt(var + 1e-5), rtol=1e-4, atol=1e-4)
  n = 4 * 3 * 3
  stats = updates["batch_stats"]
  np.testing.assert_allclose(stats["mean"], 0.1 * mean, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(stats["var"], 0.9 + 0.1 * var * n / (n - 1), rtol=1e-5)
  evaluated = bn.apply({"batch_stats": stats}, jnp.asarray(x), False)
  np.testing.assert_allclose(
    evaluated, (x - stats["mean"]) / np.sqrt(stats["var"] + 1e-5), rtol=1e-4, atol=1e-4
  )
  affine = batch_norm.BatchNorm(affine=True).init(jax.random.key(0), jnp.asarray(x), True)
  assert set(affine["params"]) == {"scale", "bias"}


# ---- CDC operations really use their θ.


def _reference_cdc_half(x, depthwise, pointwise, theta, stride, dilation):
  """ReLU → depthwise CDC (two-conv form, Eq. 3) → 1×1 CDC → BN (batch statistics)."""
  x = jnp.maximum(x, 0)
  channels = x.shape[-1]
  pad = dilation * (depthwise.shape[0] - 1) // 2
  dims = ("NHWC", "HWIO", "NHWC")
  precision = lax.Precision.HIGHEST
  vanilla = lax.conv_general_dilated(
    x,
    depthwise[:, :, None, :],
    (stride, stride),
    ((pad, pad), (pad, pad)),
    rhs_dilation=(dilation, dilation),
    dimension_numbers=dims,
    feature_group_count=channels,
    precision=precision,
  )
  centre = lax.conv_general_dilated(
    x,
    depthwise.sum((0, 1))[None, None, None, :],
    (stride, stride),
    "VALID",
    dimension_numbers=dims,
    feature_group_count=channels,
    precision=precision,
  )
  y = vanilla - theta * centre
  y = jnp.dot(y, pointwise, precision=precision) - theta * jnp.dot(
    y, pointwise, precision=precision
  )
  return (y - y.mean((0, 1, 2))) / jnp.sqrt(y.var((0, 1, 2)) + 1e-5)


@pytest.mark.parametrize("stride", [1, 2])
def test_sep_cdc_uses_the_theta_in_its_name(stride):
  x = jnp.asarray(_random((2, 8, 8, CHANNELS), 10))
  cdc_op = registry.make_op("SepCDC_3x3_0.7", CHANNELS, stride, affine=False)
  plain_op = registry.make_op("SepCDC_3x3_0.0", CHANNELS, stride, affine=False)
  out, variables = _apply(cdc_op, x)
  plain_out, _ = _apply(plain_op, x, variables=variables)
  assert not np.allclose(out, plain_out, atol=1e-2)
  p = variables["params"]
  y = _reference_cdc_half(
    x, p["first"]["depthwise"]["kernel"], p["first"]["pointwise"]["kernel"], 0.7, stride, 1
  )
  y = _reference_cdc_half(
    y, p["second"]["depthwise"]["kernel"], p["second"]["pointwise"]["kernel"], 0.7, 1, 1
  )
  np.testing.assert_allclose(out, y, rtol=1e-3, atol=1e-3)


def test_dil_cdc_uses_the_theta_in_its_name_with_dilation_two():
  x = jnp.asarray(_random((2, 9, 9, CHANNELS), 11))
  out, variables = _apply(registry.make_op("DilCDC_3x3_0.7", CHANNELS, 1, affine=False), x)
  p = variables["params"]
  expected = _reference_cdc_half(x, p["depthwise"]["kernel"], p["pointwise"]["kernel"], 0.7, 1, 2)
  np.testing.assert_allclose(out, expected, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("name", ["sep_conv_5x5", "dil_conv_3x3", "conv_3x3", "conv_7x1_1x7"])
def test_conv_implementations_give_the_same_op(name):
  x = jnp.asarray(_random((2, 8, 8, CHANNELS), 12))
  outs = []
  variables = None
  for impl in ("xla", "taps", "banded"):
    out, variables = _apply(
      registry.make_op(name, CHANNELS, 2, affine=True, conv_impl=impl), x, variables=variables
    )
    outs.append(out)
  for out in outs[1:]:
    np.testing.assert_allclose(out, outs[0], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("affine", [False, True])
def test_batch_norm_is_stable_at_a_mean_1000_times_the_std(affine):
  """A channel at mean 1000·std: E[x²] − E[x]² in float32 is off by percent; two passes are
  within 1e-4 of float64 (PyTorch: 4e-5)."""
  rng = np.random.default_rng(3)
  x = (1000.0 + rng.standard_normal((8, 6, 6, 3))) * np.array([1.0, 0.01, 50.0])
  x32 = jnp.asarray(x, jnp.float32)
  bn = batch_norm.BatchNorm(affine=affine)
  variables = bn.init(jax.random.key(0), x32, True)
  if affine:
    variables = {
      "params": {"scale": jnp.asarray([0.5, 2.0, 1.5]), "bias": jnp.asarray([0.1, -0.2, 0.3])}
    }
  out, updates = bn.apply(variables, x32, True, mutable=["batch_stats"])
  x64 = np.asarray(x32, np.float64)  # the same inputs, computed in float64
  mean, var = x64.mean(axis=(0, 1, 2)), x64.var(axis=(0, 1, 2))
  expected = (x64 - mean) / np.sqrt(var + 1e-5)
  if affine:
    expected = expected * np.array([0.5, 2.0, 1.5]) + np.array([0.1, -0.2, 0.3])
  np.testing.assert_allclose(np.asarray(out, np.float64), expected, atol=2e-4)
  n = x.size // 3
  np.testing.assert_allclose(
    updates["batch_stats"]["var"], 0.9 + 0.1 * var * n / (n - 1), rtol=1e-3
  )
  # What the one-pass formula gives here (the failure this guards against).
  one_pass = np.mean(np.asarray(x32) ** 2, axis=(0, 1, 2), dtype=np.float32) - (
    np.mean(np.asarray(x32), axis=(0, 1, 2), dtype=np.float32) ** 2
  )
  assert np.abs(one_pass - var).max() / var.max() > 1e-3


def test_batch_norm_statistics_across_devices_match_one_device():
  """Inside shard_map with `axis_name` the two-pass statistics are those of the whole batch."""
  from jax.sharding import Mesh
  from jax.sharding import PartitionSpec as P

  devices = jax.devices()[:4]
  if len(devices) < 2:
    pytest.skip("needs several devices")
  x = jnp.asarray(_random((4 * len(devices), 3, 3, 2), 11) * 2 + 500)
  bn = batch_norm.BatchNorm(affine=False, axis_name="data")
  single = batch_norm.BatchNorm(affine=False)
  whole, _ = single.apply({}, x, True, mutable=["batch_stats"])
  mesh = Mesh(np.asarray(devices), ("data",))
  sharded = jax.shard_map(
    lambda v: bn.apply({}, v, True, mutable=["batch_stats"])[0],
    mesh=mesh,
    in_specs=P("data"),
    out_specs=P("data"),
  )(x)
  np.testing.assert_allclose(sharded, whole, atol=1e-4)
