"""The LFCC-LCNN baseline: shapes, parameter count, MFM and LSTM against NumPy, train + evaluate."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs.eval import speech as eval_speech
from configs.train import lcnn_synthetic_speech
from fakenas_jax.data import preparation
from fakenas_jax.eval import speech_evaluator
from fakenas_jax.models import factory, lcnn
from fakenas_jax.training import trainer

DEVICES = jax.devices()[:1]


def _conv(k, c_in, c_out):
  return k * k * c_in * c_out + c_out


def test_parameter_count_matches_the_pytorch_baseline():
  # Nine convolutions with bias (inputs halved by each MFM), BN without parameters.
  convs = (
    _conv(5, 1, 64)
    + _conv(1, 32, 64)
    + _conv(3, 32, 96)
    + _conv(1, 48, 96)
    + _conv(3, 48, 128)
    + _conv(1, 64, 128)
    + _conv(3, 64, 64)
    + _conv(1, 32, 64)
    + _conv(3, 32, 64)
  )
  # Two BLSTM layers of width 32·⌊60/16⌋ = 96: per direction 4h(D + h) + 2·4h with h = 48.
  lstm = 2 * 2 * (4 * 48 * (96 + 48) + 8 * 48)
  dense = 96 + 1
  model = factory.build_model({"name": "lcnn"})
  variables = model.init(jax.random.PRNGKey(0), jnp.zeros((1, 60, 101, 1)), train=False)
  count = speech_evaluator.parameter_count(variables)
  assert count == convs + lstm + dense == 269_729
  # The width of the LSTM follows the feature axis: 32·⌊40/16⌋ = 64 at F = 40.
  small = model.init(jax.random.PRNGKey(0), jnp.zeros((1, 40, 64, 1)), train=False)
  assert small["params"]["blstm1"]["forward"]["w_ih"].shape == (64, 4 * 32)


@pytest.mark.parametrize("shape", [(2, 60, 251, 1), (3, 60, 63, 1), (1, 33, 17, 1)])
def test_output_shapes(shape):
  model = lcnn.LCNN(num_classes=2)
  x = jax.random.normal(jax.random.PRNGKey(1), shape)
  variables = model.init(jax.random.PRNGKey(0), x, train=False)
  out = model.apply(variables, x, train=False)
  assert out["logits"].shape == (shape[0], 2)
  out, updates = model.apply(
    variables, x, train=True, rngs={"dropout": jax.random.PRNGKey(2)}, mutable=["batch_stats"]
  )
  assert out["logits"].shape == (shape[0], 2) and "batch_stats" in updates
  with pytest.raises(ValueError, match="features ≥ 16"):
    model.apply(variables, jnp.zeros((1, 8, 63, 1)), train=False)


def test_max_feature_map_and_pool():
  x = jnp.asarray(np.random.default_rng(0).normal(size=(2, 5, 7, 6)), jnp.float32)
  np.testing.assert_array_equal(lcnn.max_feature_map(x), np.maximum(x[..., :3], x[..., 3:]))
  pooled = lcnn.max_pool_2x2(x)
  assert pooled.shape == (2, 2, 3, 6)
  np.testing.assert_array_equal(pooled[:, 1, 2], np.max(x[:, 2:4, 4:6], axis=(1, 2)))


def _numpy_lstm(params, x, reverse):
  """PyTorch's LSTM equations, one time step at a time."""
  sigmoid = lambda v: 1 / (1 + np.exp(-v))
  hidden = params["w_hh"].shape[0]
  h = np.zeros((x.shape[0], hidden))
  c = np.zeros_like(h)
  out = np.zeros((x.shape[0], x.shape[1], hidden))
  steps = range(x.shape[1])[::-1] if reverse else range(x.shape[1])
  for t in steps:
    gates = x[:, t] @ params["w_ih"] + params["b_ih"] + h @ params["w_hh"] + params["b_hh"]
    i, f, g, o = np.split(gates, 4, axis=-1)
    c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    h = sigmoid(o) * np.tanh(c)
    out[:, t] = h
  return out


def test_blstm_equals_the_lstm_equations():
  x = np.random.default_rng(3).normal(size=(2, 9, 10)).astype(np.float32)
  layer = lcnn.BLSTM(8)
  variables = layer.init(jax.random.PRNGKey(0), x)
  out = np.asarray(layer.apply(variables, x))
  params = jax.tree.map(np.asarray, variables["params"])
  np.testing.assert_allclose(out[..., :4], _numpy_lstm(params["forward"], x, False), atol=1e-5)
  np.testing.assert_allclose(out[..., 4:], _numpy_lstm(params["backward"], x, True), atol=1e-5)


def test_lcnn_trains_and_evaluates_with_the_speech_commands(tmp_path):
  data_dir = tmp_path / "tfds"
  preparation.prepare("synthetic_speech/tiny", data_dir, builder_kwargs={"num_workers": 1})
  config = lcnn_synthetic_speech.get_config()
  config.dataset, config.data_dir = "synthetic_speech/tiny", str(data_dir)
  config.batch_size, config.eval_batch_size, config.num_samples = 4, 8, 16000
  config.epochs, config.steps_per_epoch, config.progress = 1, 2, False
  workdir = tmp_path / "train"
  result = trainer.train_and_evaluate(config, workdir, devices=DEVICES)
  assert "val/eer" in result["history"][-1] and result["best"]
  eval_config = eval_speech.get_config()
  eval_config.data_dir, eval_config.batch_size, eval_config.progress = str(data_dir), 8, False
  report = speech_evaluator.evaluate_speech_run(eval_config, workdir, devices=DEVICES)
  assert report["model"] == "lcnn" and report["parameters"] == 269_729
  assert 0.0 <= report["eer"] <= 1.0 and report["min_dcf"] >= 0.0
  assert "minDCF" in report["paths"]["markdown"].read_text()


def test_a_run_is_scored_per_condition_on_asvspoof2021_la(tmp_path):
  """A run trained elsewhere (here: synthetic speech, as a 2019-trained one) scored on the 2021
  LA dummy corpus: tables per codec and transmission, counts from the key file."""
  from tfds_builders import asvspoof_protocol
  from tfds_builders.asvspoof2021_la import asvspoof2021_la_dataset_builder as la21

  data_dir = tmp_path / "tfds"
  preparation.prepare("synthetic_speech/tiny", data_dir, builder_kwargs={"num_workers": 1})
  rows = [
    ("eval", f"LA_00{i % 3} LA_E_{i} {codec} {tx} {attack} {key} notrim eval".split(), "ok")
    for i, (codec, tx, attack, key) in enumerate(
      [
        ("alaw", "ita_tx", "A07", "spoof"),
        ("alaw", "ita_tx", "bonafide", "bonafide"),
        ("alaw", "sin_tx", "A08", "spoof"),
        ("none", "sin_tx", "bonafide", "bonafide"),
        ("none", "sin_tx", "A07", "spoof"),
        ("none", "ita_tx", "bonafide", "bonafide"),
      ]
    )
  ]
  asvspoof_protocol.write_dummy_corpus(tmp_path / "la21", la21.Builder, rows)
  preparation.prepare("asvspoof2021_la", data_dir, manual_dir=str(tmp_path / "la21"))
  config = lcnn_synthetic_speech.get_config()
  config.dataset, config.data_dir = "synthetic_speech/tiny", str(data_dir)
  config.batch_size, config.eval_batch_size, config.num_samples = 4, 8, 16000
  config.epochs, config.steps_per_epoch, config.progress = 1, 1, False
  trainer.train_and_evaluate(config, tmp_path / "train", devices=DEVICES)
  eval_config = eval_speech.get_config()
  eval_config.data_dir, eval_config.batch_size, eval_config.progress = str(data_dir), 8, False
  eval_config.corpora = ["asvspoof2021_la"]
  report = speech_evaluator.evaluate_speech_run(eval_config, tmp_path / "train", devices=DEVICES)
  tables = report["per_condition"]
  assert set(tables) == {"codec", "transmission", "trim", "subset"}
  assert {k: (v["num_bonafide"], v["num_spoof"]) for k, v in tables["codec"].items()} == {
    "alaw": (1, 2),
    "none": (2, 1),
  }
  cm = report["scores"].cm_scores()
  alaw = np.isin(cm.utterances, ["LA_E_0", "LA_E_1", "LA_E_2"])
  assert tables["codec"]["alaw"]["eer"] == pytest.approx(
    speech_evaluator.speech_metrics.compute_eer(
      cm.scores[alaw & (cm.keys == "bonafide")], cm.scores[alaw & (cm.keys == "spoof")]
    )[0]
  )
  assert "## Per transmission" in report["paths"]["markdown"].read_text()
