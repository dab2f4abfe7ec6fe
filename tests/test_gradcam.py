"""Grad-CAM against a hand computation on a network whose gradient is analytic, and on Meso-4."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from fakenas_jax.eval import gradcam
from fakenas_jax.models import factory
from fakenas_jax.training import train_state

SIZE, CHANNELS = 8, 5


class Features(nn.Module):
  """3×3 conv ('SAME', bias) then ReLU: the layer Grad-CAM looks at."""

  @nn.compact
  def __call__(self, x):
    return nn.relu(nn.Conv(CHANNELS, (3, 3), padding="SAME", name="conv")(x))


class PooledNet(nn.Module):
  """features → global average pool → dense: d(logit_k)/dA_c[i, j] = W[c, k] / (h·w)."""

  num_classes: int = 2

  @nn.compact
  def __call__(self, images, train=False):
    features = Features(name="features")(images)
    return {"logits": nn.Dense(self.num_classes, name="head")(features.mean(axis=(1, 2)))}


def _hand_features(images, kernel, bias):
  """The 'SAME' 3×3 correlation + bias + ReLU, by loops over the output pixels."""
  padded = np.pad(images, ((0, 0), (1, 1), (1, 1), (0, 0)))
  out = np.zeros(images.shape[:3] + (kernel.shape[-1],))
  for i in range(images.shape[1]):
    for j in range(images.shape[2]):
      patch = padded[:, i : i + 3, j : j + 3, :]
      out[:, i, j, :] = np.einsum("bhwc,hwcd->bd", patch, kernel) + bias
  return np.maximum(out, 0.0)


def _hand_cam(features, weights):
  raw = np.maximum(np.einsum("bhwc,bc->bhw", features, weights), 0.0)
  low = raw.min(axis=(1, 2), keepdims=True)
  span = raw.max(axis=(1, 2), keepdims=True) - low
  return raw, np.where(span > 1e-12, (raw - low) / np.where(span > 1e-12, span, 1), 0.0)


@pytest.fixture(scope="module")
def pooled():
  model = PooledNet()
  images = np.asarray(jax.random.normal(jax.random.key(1), (3, SIZE, SIZE, 3)), np.float32)
  variables = model.init(jax.random.key(0), images)
  return model, variables, images


@pytest.mark.parametrize("target, column", [("fake", 1), ("real", 0)])
def test_gradcam_matches_the_hand_computation(pooled, target, column):
  model, variables, images = pooled
  params = jax.device_get(variables["params"])
  kernel = np.asarray(params["features"]["conv"]["kernel"], np.float64)
  bias = np.asarray(params["features"]["conv"]["bias"], np.float64)
  dense = np.asarray(params["head"]["kernel"], np.float64)
  features = _hand_features(images.astype(np.float64), kernel, bias)
  # The gradient of the target logit w.r.t. A_c[i, j] is W[c, k] / (h·w) everywhere.
  weights = np.broadcast_to(dense[:, column] / (SIZE * SIZE), (len(images), CHANNELS))
  raw, cam = _hand_cam(features, weights)
  assert raw.max() > 0  # a non-trivial map

  result = jax.jit(gradcam.make_gradcam(model, "features", target=target))(variables, images)
  np.testing.assert_allclose(result["weights"], weights, rtol=1e-5, atol=1e-7)
  np.testing.assert_allclose(result["cam_raw"], raw, rtol=1e-4, atol=1e-5)
  assert result["cam"].shape == (len(images), SIZE, SIZE)  # already at input size
  np.testing.assert_allclose(result["cam"], cam, atol=1e-4)
  assert float(result["cam"].min()) >= 0.0 and float(result["cam"].max()) <= 1.0
  logits = model.apply(variables, images)["logits"]
  np.testing.assert_allclose(result["p_fake"], jax.nn.softmax(logits)[:, 1], rtol=1e-5)


def test_single_logit_and_upsampling_to_the_input(pooled):
  _, _, images = pooled

  class Strided(nn.Module):
    @nn.compact
    def __call__(self, images, train=False):
      features = nn.relu(nn.Conv(CHANNELS, (2, 2), strides=2, name="down")(images))  # 4×4
      return {"logits": nn.Dense(1, name="head")(features.mean(axis=(1, 2)))}

  net = Strided()
  variables = net.init(jax.random.key(2), images)
  result = jax.jit(gradcam.make_gradcam(net, "down"))(variables, images)
  dense = np.asarray(variables["params"]["head"]["kernel"])[:, 0]
  # The layer is the convolution before the ReLU: d(logit)/dA_c[i, j] = W_c / 16 · [A_c[i, j] > 0].
  conv = np.asarray(
    net.apply(variables, images, capture_intermediates=True, mutable=["intermediates"])[1][
      "intermediates"
    ]["down"]["__call__"][0],
    np.float64,
  )
  weights = (dense / 16 * (conv > 0)).mean(axis=(1, 2))
  np.testing.assert_allclose(result["weights"], weights, rtol=1e-5, atol=1e-7)
  raw = np.maximum(np.einsum("bhwc,bc->bhw", conv, weights), 0)
  np.testing.assert_allclose(result["cam_raw"], raw, rtol=1e-4, atol=1e-6)
  assert result["cam"].shape == (3, SIZE, SIZE)
  expected = jax.image.resize(raw, (3, SIZE, SIZE), "bilinear")
  np.testing.assert_allclose(result["cam"], gradcam.normalise_maps(expected), atol=1e-5)
  np.testing.assert_allclose(
    result["p_fake"], jax.nn.sigmoid(net.apply(variables, images)["logits"][:, 0]), rtol=1e-5
  )


def test_layers_default_layer_and_unknown_layer():
  model = factory.build_model({"name": "meso4"})
  variables = train_state.init_variables(model, 32, 0)
  layers = dict(gradcam.feature_layers(model, variables, 32))
  assert layers["bn1"] == (1, 32, 32, 8) and layers["bn4"] == (1, 4, 4, 16)
  assert gradcam.default_layer(model, variables, 32) == "bn4"
  images = jnp.zeros((1, 32, 32, 3))
  with pytest.raises(ValueError, match="no layer 'nope'.*bn4"):
    gradcam.make_gradcam(model, "nope")(variables, images)
  with pytest.raises(ValueError, match="target"):
    gradcam.make_gradcam(model, "bn4", target="maybe")


def test_meso4_cam_is_the_gradient_at_the_exposed_feature():
  """At 'bn4', the weights are the gradient of the fake logit through the classifier only:
  recompute it from the exposed feature map (expose_features) with the classifier alone."""
  model = factory.build_model({"name": "meso4"})
  variables = train_state.init_variables(model, 32, 3)
  images = jax.random.normal(jax.random.key(4), (2, 32, 32, 3))
  result = jax.jit(gradcam.make_gradcam(model, "bn4"))(variables, images)
  exposed = factory.build_model({"name": "meso4"}).clone(expose_features=True)
  feature = exposed.apply(variables, images)["features"][3]

  from fakenas_jax.models import meso

  def fake_logit(feature):
    pooled = meso.max_pool_same(feature, 4)
    classifier = meso.MesoClassifier(2, 0.5)
    logits = classifier.apply({"params": variables["params"]["classifier"]}, pooled, False)
    return logits[:, 1].sum()

  grads = jax.grad(fake_logit)(feature)
  weights = grads.mean(axis=(1, 2))
  np.testing.assert_allclose(result["weights"], weights, rtol=1e-4, atol=1e-7)
  raw = jax.nn.relu(jnp.einsum("bhwc,bc->bhw", feature, weights))
  np.testing.assert_allclose(result["cam_raw"], raw, rtol=1e-4, atol=1e-6)
  assert result["cam"].shape == (2, 32, 32)


def test_overlay_picture(tmp_path):
  face = np.full((32, 32, 3), 128, np.uint8)
  cam = np.zeros((32, 32), np.float32)
  cam[8:16, 8:16] = 1.0
  blended = gradcam.heat_overlay(face, cam)
  assert blended.shape == face.shape and blended.dtype == np.uint8
  assert not np.array_equal(blended[10, 10], blended[28, 28])  # hot and cold differ
  path = gradcam.save_overlay(
    face, cam, tmp_path / "o.png", {"region": cam[..., None]}, title="P(fake) 0.5"
  )
  import cv2

  picture = cv2.imread(path)
  assert picture is not None and picture.shape[1] > 3 * 160  # face, Grad-CAM, region


def test_maps_of_a_network_with_artifact_heads(tmp_path):
  """BiG-Arts heads on Meso-4: the layer is named inside the backbone, the maps come along."""
  model = factory.build_model(
    {"name": "meso4", "bigarts_heads": True, "decoder_channels": (4, 4, 4)}
  )
  variables = train_state.init_variables(model, 32, 0)
  assert gradcam.default_layer(model, variables, 32) == "backbone/bn4"
  result = jax.jit(gradcam.make_gradcam(model, "backbone/bn3"))(
    variables, jax.random.normal(jax.random.key(5), (1, 32, 32, 3))
  )
  assert result["cam"].shape == (1, 32, 32) and result["cam_raw"].shape == (1, 8, 8)
  for name in ("intrinsic", "extrinsic"):
    assert result[name].shape == (1, 32, 32, 1)
    assert 0.0 <= float(result[name].min()) and float(result[name].max()) <= 1.0
  maps = {name: np.asarray(result[name][0]) for name in ("intrinsic", "extrinsic")}
  picture = gradcam.overlay_figure(
    np.zeros((32, 32, 3), np.uint8), np.asarray(result["cam"][0]), maps
  )
  assert picture.shape[1] == 4 * 160 + 3 * 4  # face, Grad-CAM, intrinsic, extrinsic
