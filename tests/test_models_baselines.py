"""Baselines: MesoNet, ResNet-18, Xception — published sizes, a NumPy Meso-4, tiny forwards."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from fakenas_jax.models import meso, resnet, xception


def _count(tree) -> int:
  return sum(int(np.prod(leaf.shape)) for leaf in jax.tree_util.tree_leaves(tree))


def _abstract_variables(model, size):
  return jax.eval_shape(
    lambda: model.init(jax.random.key(0), jnp.zeros((1, size, size, 3)), train=False)
  )


def _init(model, x):
  return jax.jit(lambda key: model.init({"params": key}, x, train=False))(
    jax.random.key(0, impl="rbg")
  )


@pytest.mark.parametrize("inception, published", [(False, 27_977), (True, 28_615)])
def test_mesonet_has_the_published_number_of_trainable_parameters(inception, published):
  """MesoNet (Afchar et al. 2018): 27,977 / 28,615 trainable parameters, 256×256, 1 output."""
  variables = _abstract_variables(meso.MesoNet(num_classes=1, inception=inception), 256)
  assert _count(variables["params"]) == published
  # The 2-class head adds one output unit: 16 weights and a bias.
  two_class = _abstract_variables(meso.MesoNet(num_classes=2, inception=inception), 256)
  assert _count(two_class["params"]) == published + 17


def test_resnet18_and_xception_have_the_reference_sizes():
  resnet18 = _abstract_variables(resnet.resnet18(num_classes=1000), 224)
  assert _count(resnet18["params"]) == 11_689_512  # torchvision
  xception_variables = _abstract_variables(xception.Xception(num_classes=1000), 299)
  assert _count(xception_variables["params"]) == pytest.approx(22_855_952, rel=0.01)  # Keras/timm


def _keras_max_pool(x, window):
  """Keras MaxPooling2D(window, padding='same') written out with loops."""
  batch, height, width, channels = x.shape
  out_h, out_w = -(-height // window), -(-width // window)
  pad_h = max((out_h - 1) * window + window - height, 0) // 2
  pad_w = max((out_w - 1) * window + window - width, 0) // 2
  out = np.empty((batch, out_h, out_w, channels), x.dtype)
  for i in range(out_h):
    for j in range(out_w):
      rows = slice(max(i * window - pad_h, 0), min(i * window - pad_h + window, height))
      cols = slice(max(j * window - pad_w, 0), min(j * window - pad_w + window, width))
      out[:, i, j] = x[:, rows, cols].max(axis=(1, 2))
  return out


@pytest.mark.parametrize("size, window", [(8, 2), (7, 2), (9, 4), (6, 4)])
def test_max_pool_same_matches_keras(size, window):
  x = np.random.default_rng(size).normal(size=(2, size, size + 1, 3)).astype(np.float32)
  np.testing.assert_allclose(
    meso.max_pool_same(jnp.asarray(x), window), _keras_max_pool(x, window), rtol=0, atol=0
  )


@pytest.mark.parametrize("size, window", [(8, 2), (9, 4)])
def test_max_pool_same_gradient_goes_to_the_first_maximum(size, window):
  """Against lax.reduce_window (select-and-scatter), on a ReLU-ed input full of ties."""
  x = jax.nn.relu(jax.random.normal(jax.random.key(size), (2, size, size + 1, 3)))
  pads = []
  for n in x.shape[1:3]:
    total = max(-(-n // window) * window - n, 0)
    pads.append((total // 2, total - total // 2))
  reference = lambda x: jax.lax.reduce_window(
    x,
    -jnp.inf,
    jax.lax.max,
    (1, window, window, 1),
    (1, window, window, 1),
    [(0, 0), *pads, (0, 0)],
  )
  got, got_vjp = jax.vjp(lambda x: meso.max_pool_same(x, window), x)
  want, want_vjp = jax.vjp(reference, x)
  cotangent = jax.random.normal(jax.random.key(0), want.shape)
  np.testing.assert_array_equal(got, want)
  np.testing.assert_array_equal(got_vjp(cotangent)[0], want_vjp(cotangent)[0])


def _conv_same(x, kernel, bias, dilation=1):
  """Stride-1 'same' convolution (odd kernel) by explicit loops over the kernel taps."""
  k = kernel.shape[0]
  pad = (k - 1) // 2 * dilation
  padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
  height, width = x.shape[1:3]
  out = np.zeros(x.shape[:3] + (kernel.shape[-1],), np.float64)
  for i in range(k):
    for j in range(k):
      window = padded[:, i * dilation : i * dilation + height, j * dilation : j * dilation + width]
      out += window @ kernel[i, j]
  return out + bias


def _numpy_meso4(variables, x):
  """Meso-4 in evaluation mode from its layer list (module docstring), in float64 NumPy."""
  params = jax.tree.map(lambda a: np.asarray(a, np.float64), variables["params"])
  stats = jax.tree.map(lambda a: np.asarray(a, np.float64), variables["batch_stats"])
  x = np.asarray(x, np.float64)
  for index, pool in zip(range(1, 5), (2, 2, 2, 4)):
    conv = params[f"conv{index}"]
    x = np.maximum(_conv_same(x, conv["conv"]["kernel"], conv["bias"]), 0.0)
    bn, running = params[f"bn{index}"], stats[f"bn{index}"]
    x = (x - running["mean"]) / np.sqrt(running["var"] + 1e-5) * bn["scale"] + bn["bias"]
    x = _keras_max_pool(x, pool)
  x = x.reshape(x.shape[0], -1)
  hidden = params["classifier"]["hidden"]
  x = x @ hidden["kernel"] + hidden["bias"]
  x = np.where(x > 0, x, 0.1 * x)
  output = params["classifier"]["output"]
  return x @ output["kernel"] + output["bias"]


def test_meso4_evaluation_equals_a_numpy_implementation():
  model = meso.MesoNet(num_classes=2)
  x = jax.random.normal(jax.random.key(1), (2, 24, 20, 3))
  variables = _init(model, x)
  # Non-trivial BN statistics and affine parameters.
  rng = np.random.default_rng(0)
  variables = jax.tree_util.tree_map_with_path(
    lambda path, a: (
      jnp.asarray(rng.uniform(0.5, 2.0, a.shape), a.dtype)
      if "var" in jax.tree_util.keystr(path) or "scale" in jax.tree_util.keystr(path)
      else a + 0.1 * rng.normal(size=a.shape)
    ),
    variables,
  )
  logits = model.apply(variables, x, train=False)["logits"]
  np.testing.assert_allclose(logits, _numpy_meso4(variables, x), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
  "model, size, strides",
  [
    (meso.MesoNet(num_classes=2, expose_features=True), 32, (1, 2, 4, 8)),
    (resnet.resnet18(num_classes=2, expose_features=True), 32, (2, 4, 8, 16, 32)),
  ],
)
def test_baseline_trains_and_evaluates(model, size, strides):
  x = jax.random.normal(jax.random.key(2), (2, size, size, 3))
  variables = _init(model, x)

  @jax.jit
  def loss_and_grads(params, key):
    def loss(params):
      outputs, updates = model.apply(
        {**variables, "params": params},
        x,
        train=True,
        rngs={"dropout": key},
        mutable=["batch_stats"],
      )
      return jnp.sum(outputs["logits"] ** 2), (outputs, updates)

    return jax.grad(loss, has_aux=True)(params)

  grads, (outputs, updates) = loss_and_grads(variables["params"], jax.random.key(3))
  assert outputs["logits"].shape == (2, 2)
  assert [size // f.shape[1] for f in outputs["features"]] == list(strides)
  assert all(bool(jnp.all(jnp.isfinite(g))) for g in jax.tree_util.tree_leaves(grads))
  assert any(float(jnp.abs(g).max()) > 0 for g in jax.tree_util.tree_leaves(grads))
  changed = jax.tree.map(
    lambda a, b: bool(jnp.any(a != b)), updates["batch_stats"], variables["batch_stats"]
  )
  assert all(jax.tree_util.tree_leaves(changed))  # every BN saw the batch
  evaluation = model.apply(variables, x, train=False)  # no rng needed
  again = model.apply(variables, x, train=False)
  np.testing.assert_array_equal(evaluation["logits"], again["logits"])


def test_xception_runs_on_a_small_input():
  model = xception.Xception(num_classes=2, expose_features=True)
  x = jax.random.normal(jax.random.key(4), (2, 32, 32, 3))
  outputs = jax.jit(lambda key: model.apply(model.init({"params": key}, x), x, train=False))(
    jax.random.key(0, impl="rbg")
  )
  assert outputs["logits"].shape == (2, 2)
  assert np.isfinite(np.asarray(outputs["logits"])).all()
  # 32 → 15 (unpadded stride-2 conv) → 13 → 7 → 4 → 2 → 1.
  assert [f.shape[1:] for f in outputs["features"]] == [
    (13, 13, 64),
    (7, 7, 128),
    (4, 4, 256),
    (2, 2, 728),
    (1, 1, 2048),
  ]
  with pytest.raises(ValueError, match="at least 32"):
    model.init(jax.random.key(0), jnp.zeros((1, 16, 16, 3)))
