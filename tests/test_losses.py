"""The training losses against their formulas, computed independently with NumPy / scikit-learn."""

import jax
import ml_collections
import numpy as np
import pytest
from sklearn.metrics import log_loss

from fakenas_jax.training import losses


def _softmax(x):
  e = np.exp(x - x.max(-1, keepdims=True))
  return e / e.sum(-1, keepdims=True)


def _sigmoid(x):
  return 1.0 / (1.0 + np.exp(-x))


def _config(**loss):
  defaults = dict(
    classification_weight=1.0,
    class_weights=(),
    auxiliary_weight=0.4,
    region_weight=1.0,
    intrinsic_weight=15.0,
    extrinsic_weight=15.0,
  )
  return ml_collections.ConfigDict({"loss": {**defaults, **loss}})


@pytest.fixture
def batch():
  rng = np.random.default_rng(0)
  b, s = 6, 8
  return {
    "logits": rng.normal(size=(b, 2)).astype(np.float32),
    "aux_logits": rng.normal(size=(b, 2)).astype(np.float32),
    "region": rng.normal(size=(b, s, s, 1)).astype(np.float32),
    "intrinsic": rng.normal(size=(b, s, s, 1)).astype(np.float32) * 3,
    "extrinsic": rng.normal(size=(b, s, s, 1)).astype(np.float32) * 3,
    "label": np.array([0, 1, 1, 0, 1, 1], np.int32),
    "face_hull": (rng.random((b, s, s, 1)) > 0.5).astype(np.float32),
    "intrinsic_mask": rng.random((b, s, s, 1)).astype(np.float32),
    "extrinsic_mask": (rng.random((b, s, s, 1)) > 0.7).astype(np.float32),
  }


def test_cross_entropy_matches_scikit_learn(batch):
  got = losses.cross_entropy(batch["logits"], batch["label"])
  expected = log_loss(batch["label"], _softmax(batch["logits"].astype(np.float64)), labels=[0, 1])
  np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_class_weighted_cross_entropy_is_pytorchs_weighted_mean(batch):
  weights = np.array([1.0, 9.0])
  got = losses.cross_entropy(batch["logits"], batch["label"], (1.0, 9.0))
  per_example = -np.log(_softmax(batch["logits"].astype(np.float64))[np.arange(6), batch["label"]])
  w = weights[batch["label"]]
  np.testing.assert_allclose(got, (w * per_example).sum() / w.sum(), rtol=1e-5)
  # scikit-learn's sample weights give the same weighted mean.
  np.testing.assert_allclose(
    got,
    log_loss(
      batch["label"], _softmax(batch["logits"].astype(np.float64)), sample_weight=w, labels=[0, 1]
    ),
    rtol=1e-5,
  )


def test_one_fake_logit_is_a_sigmoid_classifier(batch):
  logit = batch["logits"][:, :1]
  p = _sigmoid(logit[:, 0].astype(np.float64))
  np.testing.assert_allclose(
    losses.cross_entropy(logit, batch["label"]),
    log_loss(batch["label"], p, labels=[0, 1]),
    rtol=1e-5,
  )
  np.testing.assert_allclose(losses.fake_probability(logit), p, rtol=1e-5)
  np.testing.assert_allclose(
    losses.accuracy(logit, batch["label"]), ((p > 0.5) == batch["label"]).mean()
  )


def test_fake_probability_is_the_softmax_of_class_1(batch):
  np.testing.assert_allclose(
    losses.fake_probability(batch["logits"]),
    _softmax(batch["logits"].astype(np.float64))[:, 1],
    rtol=1e-5,
  )


def test_class_weights_of_the_wrong_length_are_refused(batch):
  with pytest.raises(ValueError, match="one weight per class"):
    losses.cross_entropy(batch["logits"], batch["label"], (1.0, 2.0, 3.0))


def test_region_mse_is_add_eq5(batch):
  got = losses.region_mse(batch["region"], batch["face_hull"])
  per_sample = ((batch["region"] - batch["face_hull"]) ** 2).reshape(6, -1).mean(1)
  np.testing.assert_allclose(got, per_sample.mean(), rtol=1e-5)


def test_pixel_bce_is_bigarts_eq3_per_pixel(batch):
  got = losses.pixel_bce(batch["intrinsic"], batch["intrinsic_mask"])
  p = _sigmoid(batch["intrinsic"].astype(np.float64))
  m = batch["intrinsic_mask"]
  np.testing.assert_allclose(got, -(m * np.log(p) + (1 - m) * np.log(1 - p)).mean(), rtol=1e-5)


def test_pixel_bce_refuses_masks_of_another_size(batch):
  with pytest.raises(ValueError, match="must match"):
    losses.pixel_bce(batch["intrinsic"], batch["intrinsic_mask"][:, :4, :4])


def _outputs_and_batch(batch, names):
  outputs = {name: batch[name] for name in names}
  data = {
    "label": batch["label"],
    "face_hull": batch["face_hull"],
    "intrinsic": batch["intrinsic_mask"],
    "extrinsic": batch["extrinsic_mask"],
  }
  return outputs, data


def _ce(logits, labels):
  return -np.log(_softmax(logits.astype(np.float64))[np.arange(len(labels)), labels]).mean()


def _bce(logits, mask):
  p = _sigmoid(logits.astype(np.float64))
  return -(mask * np.log(p) + (1 - mask) * np.log(1 - p)).mean()


def test_plain_classifier_uses_cross_entropy_only(batch):
  loss = losses.loss_for(_config(), {"logits"})
  assert loss.masks == ()
  value, metrics = loss(*_outputs_and_batch(batch, ["logits"]))
  np.testing.assert_allclose(value, _ce(batch["logits"], batch["label"]), rtol=1e-5)
  expected_accuracy = (batch["logits"].argmax(-1) == batch["label"]).mean()
  np.testing.assert_allclose(metrics["accuracy"], expected_accuracy)


def test_darts_auxiliary_head_weighs_0_4(batch):
  loss = losses.loss_for(_config(), {"logits", "aux_logits"})
  value, metrics = loss(*_outputs_and_batch(batch, ["logits", "aux_logits"]))
  expected = _ce(batch["logits"], batch["label"]) + 0.4 * _ce(batch["aux_logits"], batch["label"])
  np.testing.assert_allclose(value, expected, rtol=1e-5)
  np.testing.assert_allclose(
    metrics["auxiliary"], _ce(batch["aux_logits"], batch["label"]), rtol=1e-5
  )


def test_add_loss_is_ce_plus_alpha_mse(batch):
  loss = losses.loss_for(_config(region_weight=1.0), {"logits", "region"})
  assert loss.masks == ("face_hull",)
  value, _ = loss(*_outputs_and_batch(batch, ["logits", "region"]))
  mse = ((batch["region"] - batch["face_hull"]) ** 2).mean()
  np.testing.assert_allclose(value, _ce(batch["logits"], batch["label"]) + mse, rtol=1e-5)
  loss_10 = losses.loss_for(_config(region_weight=10.0), {"logits", "region"})
  value_10, _ = loss_10(*_outputs_and_batch(batch, ["logits", "region"]))
  np.testing.assert_allclose(value_10, _ce(batch["logits"], batch["label"]) + 10 * mse, rtol=1e-5)


def test_bigarts_loss_is_eq2_with_lambdas_15(batch):
  names = ["logits", "intrinsic", "extrinsic"]
  loss = losses.loss_for(_config(), set(names))
  assert loss.masks == ("intrinsic", "extrinsic")
  value, metrics = loss(*_outputs_and_batch(batch, names))
  expected = (
    _ce(batch["logits"], batch["label"])
    + 15 * _bce(batch["intrinsic"], batch["intrinsic_mask"])
    + 15 * _bce(batch["extrinsic"], batch["extrinsic_mask"])
  )
  np.testing.assert_allclose(value, expected, rtol=1e-5)
  assert set(metrics) == {"loss", "accuracy", "classification", "intrinsic", "extrinsic"}


def test_a_zero_weight_drops_the_term_and_its_mask(batch):
  loss = losses.loss_for(_config(intrinsic_weight=0.0), {"logits", "intrinsic", "extrinsic"})
  assert loss.masks == ("extrinsic",)
  value, metrics = loss(*_outputs_and_batch(batch, ["logits", "intrinsic", "extrinsic"]))
  assert "intrinsic" not in metrics
  expected = _ce(batch["logits"], batch["label"]) + 15 * _bce(
    batch["extrinsic"], batch["extrinsic_mask"]
  )
  np.testing.assert_allclose(value, expected, rtol=1e-5)


def test_the_loss_is_differentiable_under_jit(batch):
  names = ["logits", "region", "intrinsic"]
  loss = losses.loss_for(_config(), set(names))
  outputs, data = _outputs_and_batch(batch, names)
  grads = jax.jit(jax.grad(lambda o: loss(o, data)[0]))(outputs)
  # d CE / d logits = (softmax − onehot) / B.
  expected = (_softmax(batch["logits"].astype(np.float64)) - np.eye(2)[batch["label"]]) / 6
  np.testing.assert_allclose(grads["logits"], expected, rtol=1e-4, atol=1e-7)
  np.testing.assert_allclose(
    grads["region"],
    2 * (batch["region"] - batch["face_hull"]) / batch["region"].size,
    rtol=1e-4,
    atol=1e-9,
  )


def test_bad_configs_and_outputs_are_refused():
  with pytest.raises(ValueError, match="must output 'logits'"):
    losses.loss_for(_config(), {"region"})
  # Outputs without a loss term (feature maps for decoder heads) add nothing.
  plain = losses.loss_for(_config(), {"logits"})
  assert losses.loss_for(_config(), {"logits", "features"}) == plain
  with pytest.raises(ValueError, match="region_weight must be >= 0"):
    losses.loss_for(_config(region_weight=-1.0), {"logits", "region"})
  with pytest.raises(ValueError, match="class_weights must be positive"):
    losses.loss_for(_config(class_weights=(1.0, 0.0)), {"logits"})
