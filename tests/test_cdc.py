"""CDC folding and the convolution primitives against direct NumPy references.

The references pad symmetrically by (k − 1) / 2 · dilation, as PyTorch's Conv2d does, and loop
over kernel taps; every implementation (xla, taps, banded) must match them to float tolerance.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from fakenas_jax.nn import cdc, conv, padding

IMPLS = ("xla", "taps", "banded")
THETAS = (0.0, 0.5, 0.7, 1.0)


def reference_conv(x, kernel, stride=(1, 1), dilation=(1, 1), groups=1, pad=None):
  """Direct NCHW-free NumPy convolution: x (B, H, W, C), kernel (kh, kw, C / groups, O)."""
  stride, dilation = padding.as_pair(stride), padding.as_pair(dilation)
  kernel_h, kernel_w, c_per_group, c_out = kernel.shape
  if pad is None:
    pad = ((kernel_h - 1) // 2 * dilation[0], (kernel_w - 1) // 2 * dilation[1])
  padded = np.pad(x, ((0, 0), (pad[0], pad[0]), (pad[1], pad[1]), (0, 0)))
  out_h = (x.shape[1] + 2 * pad[0] - dilation[0] * (kernel_h - 1) - 1) // stride[0] + 1
  out_w = (x.shape[2] + 2 * pad[1] - dilation[1] * (kernel_w - 1) - 1) // stride[1] + 1
  out = np.zeros((x.shape[0], out_h, out_w, c_out), np.float64)
  out_per_group = c_out // groups
  for o in range(c_out):
    group = o // out_per_group
    for i in range(kernel_h):
      for j in range(kernel_w):
        window = padded[
          :,
          i * dilation[0] : i * dilation[0] + (out_h - 1) * stride[0] + 1 : stride[0],
          j * dilation[1] : j * dilation[1] + (out_w - 1) * stride[1] + 1 : stride[1],
          group * c_per_group : (group + 1) * c_per_group,
        ]
        out[..., o] += window @ kernel[i, j, :, o]
  return out


def two_conv_cdc(x, kernel, theta, stride, dilation, groups):
  """FD-NAS Eq. 3 literally: conv(x, w) − θ · conv1×1(x, Σ_spatial w) (1×1: no padding)."""
  vanilla = reference_conv(x, kernel, stride, dilation, groups)
  summed = kernel.sum(axis=(0, 1), keepdims=True)
  difference = reference_conv(x, summed, stride, 1, groups, pad=(0, 0))
  return vanilla - theta * difference


def _random(shape, seed):
  return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


@pytest.mark.parametrize("theta", THETAS)
@pytest.mark.parametrize("stride,dilation", [(1, 1), (2, 1), (1, 2), (2, 2)])
@pytest.mark.parametrize("impl", IMPLS)
def test_cdc_plain_conv_matches_two_conv_formula(theta, stride, dilation, impl):
  x, kernel = _random((2, 8, 7, 3), 0), _random((3, 3, 3, 4), 1)
  folded = cdc.fold_central_difference(jnp.asarray(kernel), theta)
  got = conv.conv2d(jnp.asarray(x), folded, stride=stride, dilation=dilation, impl=impl)
  want = two_conv_cdc(x, kernel, theta, (stride, stride), (dilation, dilation), 1)
  np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("theta", THETAS)
@pytest.mark.parametrize(
  "stride,dilation,kernel_size", [(1, 1, 3), (2, 1, 3), (1, 2, 3), (2, 2, 5), (1, 1, 5)]
)
@pytest.mark.parametrize("impl", IMPLS)
def test_cdc_depthwise_matches_two_conv_formula(theta, stride, dilation, kernel_size, impl):
  x, kernel = _random((2, 9, 8, 3), 2), _random((kernel_size, kernel_size, 3), 3)
  folded = cdc.fold_central_difference(jnp.asarray(kernel), theta)
  got = conv.depthwise_conv(jnp.asarray(x), folded, stride=stride, dilation=dilation, impl=impl)
  want = two_conv_cdc(x, kernel[:, :, None, :], theta, (stride, stride), (dilation, dilation), 3)
  np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_cdc_fold_only_changes_centre_tap_per_channel_pair():
  kernel = _random((3, 3, 2, 5), 4)
  folded = np.asarray(cdc.fold_central_difference(jnp.asarray(kernel), 0.7))
  expected = kernel.copy()
  expected[1, 1] -= 0.7 * kernel.sum(axis=(0, 1))
  np.testing.assert_allclose(folded, expected, rtol=1e-6, atol=1e-6)


def test_cdc_of_1x1_kernel_is_scaled_by_one_minus_theta():
  kernel = _random((1, 1, 4, 6), 5)
  np.testing.assert_allclose(
    cdc.fold_central_difference(jnp.asarray(kernel), 0.7), kernel * 0.3, rtol=1e-6, atol=1e-6
  )


def test_cdc_theta_zero_is_plain_conv_and_even_kernels_are_rejected():
  kernel = jnp.asarray(_random((3, 3, 2, 2), 6))
  assert cdc.fold_central_difference(kernel, 0.0) is kernel
  with pytest.raises(ValueError, match="odd"):
    cdc.fold_central_difference(jnp.zeros((2, 2, 1, 1)), 0.5)


def test_cdc_gradient_flows_to_kernel_and_theta():
  x = jnp.asarray(_random((1, 5, 5, 2), 7))
  kernel = jnp.asarray(_random((3, 3, 2, 2), 8))

  def loss(kernel, theta):
    return jnp.sum(conv.conv2d(x, cdc.fold_central_difference(kernel, theta)) ** 2)

  grad_kernel, grad_theta = jax.grad(loss, argnums=(0, 1))(kernel, 0.5)
  assert np.all(np.isfinite(grad_kernel)) and float(jnp.abs(grad_theta)) > 0


# ---- padding: PyTorch's symmetric padding, not XLA's 'SAME'.


@pytest.mark.parametrize("size", [7, 8])
@pytest.mark.parametrize("impl", IMPLS)
def test_strided_conv_pads_symmetrically_like_pytorch(size, impl):
  x, kernel = _random((2, size, size, 2), 9), _random((3, 3, 2, 3), 10)
  got = conv.conv2d(jnp.asarray(x), jnp.asarray(kernel), stride=2, impl=impl)
  assert got.shape == (2, (size + 1) // 2, (size + 1) // 2, 3)
  np.testing.assert_allclose(got, reference_conv(x, kernel, 2), rtol=1e-4, atol=1e-4)


def test_xla_same_padding_differs_at_stride_two_on_even_sizes():
  x, kernel = _random((1, 8, 8, 1), 11), _random((3, 3, 1, 1), 12)
  same = lax.conv_general_dilated(
    jnp.asarray(x), jnp.asarray(kernel), (2, 2), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
  )
  ours = conv.conv2d(jnp.asarray(x), jnp.asarray(kernel), stride=2)
  assert same.shape == ours.shape
  assert not np.allclose(same, ours, atol=1e-3)


def test_padding_helpers():
  assert padding.symmetric_padding(5, 2) == 4
  assert padding.spatial_padding((1, 7)) == ((0, 0), (3, 3))
  assert padding.conv_output_size(8, 3, 2, 1, 1) == 4
  assert padding.conv_output_size(7, 5, 2, 2, 4) == 4
  with pytest.raises(ValueError):
    padding.symmetric_padding(4)


# ---- the primitives agree with the references in every form the ops and a fused op use.


@pytest.mark.parametrize("impl", IMPLS)
def test_depthwise_with_channel_multiplier(impl):
  x, kernel = _random((2, 7, 8, 3), 13), _random((3, 3, 3, 4), 14)
  got = conv.depthwise_conv(jnp.asarray(x), jnp.asarray(kernel), stride=2, impl=impl)
  want = reference_conv(x, kernel.reshape(3, 3, 1, 12), 2, groups=3)
  np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_depthwise_taps_subset_skips_structural_zeros():
  """A 3×3 dilation-2 kernel embedded in a 5×5 footprint, computed from its 9 taps only."""
  x, small = _random((2, 9, 9, 2), 15), _random((3, 3, 2), 16)
  embedded = np.zeros((5, 5, 2), np.float32)
  embedded[::2, ::2] = small
  taps = [(2 * i, 2 * j) for i in range(3) for j in range(3)]
  got = conv.depthwise_conv(jnp.asarray(x), jnp.asarray(embedded), taps=taps, impl="taps")
  want = conv.depthwise_conv(jnp.asarray(x), jnp.asarray(small), dilation=2, impl="xla")
  np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("impl", IMPLS)
def test_rectangular_kernels_pad_each_axis(impl):
  x, kernel = _random((2, 9, 8, 2), 17), _random((1, 7, 2, 3), 18)
  got = conv.conv2d(jnp.asarray(x), jnp.asarray(kernel), stride=(1, 2), impl=impl)
  np.testing.assert_allclose(got, reference_conv(x, kernel, (1, 2)), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("channels", [1, 2, 3, 8])
def test_pointwise_plain_strided_and_grouped(channels):
  x = _random((2, 7, 5, channels * 2), 19)
  kernel = _random((channels * 2, 3), 20)
  got = conv.pointwise_conv(jnp.asarray(x), jnp.asarray(kernel), stride=2)
  np.testing.assert_allclose(got, x[:, ::2, ::2] @ kernel, rtol=1e-4, atol=1e-4)
  grouped = _random((2, channels, 3), 21)
  got = conv.pointwise_conv(jnp.asarray(x), jnp.asarray(grouped))
  want = np.concatenate([x[..., :channels] @ grouped[0], x[..., channels:] @ grouped[1]], -1)
  np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_implementations_have_the_same_gradients():
  x, kernel = jnp.asarray(_random((2, 8, 8, 3), 22)), jnp.asarray(_random((3, 3, 3), 23))
  weights = jnp.asarray(_random((2, 4, 4, 3), 24))

  def grads(impl):
    loss = lambda x, k: jnp.vdot(weights, conv.depthwise_conv(x, k, stride=2, impl=impl))
    return jax.grad(loss, argnums=(0, 1))(x, kernel)

  reference = grads("xla")
  for impl in ("taps", "banded"):
    for got, want in zip(grads(impl), reference):
      np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_unknown_impl_is_rejected():
  with pytest.raises(ValueError, match="impl"):
    conv.depthwise_conv(jnp.zeros((1, 4, 4, 1)), jnp.zeros((3, 3, 1)), impl="fast")
