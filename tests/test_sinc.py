"""The sinc-filter front end: filters against their definition, frequency responses, initial
scales, learnable edges, and training and search on the raw waveform."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs.search import pcdarts_synthetic_speech as search_speech
from configs.train import lcnn_synthetic_speech
from fakenas_jax.audio import sinc
from fakenas_jax.data import preparation
from fakenas_jax.models import factory, sinc_frontend
from fakenas_jax.nas import search
from fakenas_jax.training import trainer

DEVICES = jax.devices()[:1]
RATE = 16000


def _definition(low, high, kernel_size):
  """g[n] = (2φ2 sinc(2φ2 n) − 2φ1 sinc(2φ1 n)) · Hamming, in float64 from NumPy."""
  n = np.arange(kernel_size) - (kernel_size - 1) / 2
  window = 0.54 - 0.46 * np.cos(2 * np.pi * np.arange(kernel_size) / (kernel_size - 1))
  f1, f2 = low / RATE, high / RATE
  return (2 * f2 * np.sinc(2 * f2 * n) - 2 * f1 * np.sinc(2 * f1 * n)) * window


def test_filters_equal_their_definition():
  rng = np.random.default_rng(0)
  low = rng.uniform(0, 6000, 7)
  high = low + rng.uniform(50, 2000, 7)
  filters = np.asarray(sinc.sinc_filters(low, high, 101, RATE))
  assert filters.shape == (101, 7)
  for i in range(7):
    np.testing.assert_allclose(filters[:, i], _definition(low[i], high[i], 101), atol=2e-6)
  # Symmetric (linear phase), centre tap 2(φ2 − φ1).
  np.testing.assert_allclose(filters, filters[::-1], atol=1e-7)
  np.testing.assert_allclose(filters[50], 2 * (high - low) / RATE, rtol=1e-5)


@pytest.mark.parametrize("scale", sinc.SCALES)
def test_frequency_responses_pass_their_band_and_stop_the_rest(scale):
  kernel = 513
  config = sinc.SincConfig(filters=12, kernel_size=kernel, scale=scale)
  low, high = sinc.initial_bands(config)
  filters = np.asarray(sinc.sinc_filters(low, high, kernel, RATE), np.float64)
  points = 8192
  response = np.abs(np.fft.rfft(filters, n=points, axis=0))  # DTFT on a grid
  freqs = np.fft.rfftfreq(points, 1 / RATE)
  margin = 4 * RATE / kernel  # > the Hamming window's transition half-width (3.3 / K)
  for i in range(config.filters):
    passband = (freqs > low[i] + margin) & (freqs < high[i] - margin)
    stopband = (freqs < low[i] - margin) | (freqs > high[i] + margin)
    if passband.any():
      np.testing.assert_allclose(response[passband, i], 1.0, atol=0.01)
    assert response[stopband, i].max() < 0.01
  # Together the side-by-side bands pass every frequency about once.
  inside = (freqs > margin) & (freqs < RATE / 2 - margin)
  total = np.abs(np.fft.rfft(filters.sum(axis=1), n=points))
  np.testing.assert_allclose(total[inside], 1.0, atol=0.01)


def test_initial_scales():
  mel = sinc.band_edges(sinc.SincConfig(filters=10, scale="mel"))
  np.testing.assert_allclose(np.diff(sinc.hz_to_mel(mel)), np.diff(sinc.hz_to_mel(mel))[0])
  assert mel[0] == 0 and mel[-1] == RATE / 2 and np.all(np.diff(np.diff(mel)) > 0)  # widen
  inverse = sinc.band_edges(sinc.SincConfig(filters=10, scale="inverse_mel"))
  np.testing.assert_allclose(np.diff(inverse), np.diff(mel)[::-1])  # narrow at the top
  assert inverse[0] == 0 and inverse[-1] == RATE / 2
  linear = sinc.band_edges(sinc.SincConfig(filters=10, scale="linear", min_hz=300))
  np.testing.assert_allclose(np.diff(linear), (RATE / 2 - 300) / 10)
  np.testing.assert_allclose(sinc.mel_to_hz(sinc.hz_to_mel([0, 700, 5000])), [0, 700, 5000])
  assert sinc.hz_to_mel(700) == pytest.approx(2595 * np.log10(2))
  with pytest.raises(ValueError, match="scale must be one of mel, inverse_mel, linear"):
    sinc.SincConfig(scale="bark")
  with pytest.raises(ValueError, match="unknown sinc field.*width"):
    sinc.config_from({"width": 3})


def test_features_shape_and_values():
  config = sinc.SincConfig(filters=8, kernel_size=65, stride=10, pool=16)
  assert sinc.feature_shape(16000, config) == (8, 100, 1)  # 1,600 outputs, pooled by 16
  rng = np.random.default_rng(1)
  waveform = rng.normal(size=(2, 1600)).astype(np.float32)
  features = np.asarray(sinc.fixed_features(waveform, config))
  # Direct: zero-padded correlation (the filters are symmetric) at every 10th sample.
  low, high = sinc.initial_bands(config)
  padded = np.pad(waveform, ((0, 0), (32, 32)))
  for i in (0, 5):
    g = _definition(low[i], high[i], 65)
    outputs = np.array([[padded[b, t : t + 65] @ g for t in range(0, 1600, 10)] for b in range(2)])
    pooled = np.abs(outputs[:, :160]).reshape(2, 10, 16).max(-1)
    np.testing.assert_allclose(features[:, i, :, 0], np.log(pooled + 1e-6), atol=1e-4)


def test_learnable_edges_start_at_the_initial_bands_and_get_gradients():
  config = sinc.SincConfig(filters=6, kernel_size=33, scale="inverse_mel", stride=4, pool=2)
  module = sinc_frontend.SincFrontend(config)
  waveform = jnp.asarray(np.random.default_rng(2).normal(size=(2, 800)), jnp.float32)
  variables = module.init(jax.random.PRNGKey(0), waveform)
  np.testing.assert_allclose(
    module.apply(variables, waveform), sinc.fixed_features(waveform, config), rtol=1e-5, atol=1e-5
  )
  grads = jax.grad(lambda v: module.apply(v, waveform).sum())(variables)["params"]
  assert np.abs(np.asarray(grads["low_hz"])).sum() > 0
  assert np.abs(np.asarray(grads["band_hz"])).sum() > 0
  fixed = sinc_frontend.SincFrontend(sinc.SincConfig(filters=6, kernel_size=33, learnable=False))
  assert "params" not in fixed.init(jax.random.PRNGKey(0), waveform)
  with pytest.raises(ValueError, match="frontend must be one of lfcc, sinc"):
    factory.build_model({"name": "lcnn", "frontend": "raw"})


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
  path = tmp_path_factory.mktemp("tfds")
  preparation.prepare("synthetic_speech/tiny", path, builder_kwargs={"num_workers": 1})
  return str(path)


SINC = dict(filters=16, kernel_size=65, stride=10, pool=25)  # 1 s → 16 × 64 (even down to 1/32)


def test_training_on_the_waveform(data_dir, tmp_path):
  config = lcnn_synthetic_speech.get_config()
  config.dataset, config.data_dir = "synthetic_speech/tiny", data_dir
  config.model.frontend, config.model.sinc = "sinc", dict(SINC, scale="linear")
  config.batch_size, config.eval_batch_size, config.num_samples = 4, 8, 16000
  config.epochs, config.steps_per_epoch, config.progress = 1, 2, False
  result = trainer.train_and_evaluate(config, tmp_path, devices=DEVICES)
  params = result["state"].params if hasattr(result["state"], "params") else None
  assert "val/eer" in result["history"][-1]
  if params is not None:  # the band edges were trained
    low, _ = sinc.initial_bands(sinc.SincConfig(**dict(SINC, scale="linear")))
    assert not np.allclose(np.asarray(params["sinc"]["low_hz"]), low)


def test_search_on_the_waveform(data_dir, tmp_path):
  config = search_speech.get_config()
  config.dataset, config.data_dir = "synthetic_speech/tiny", data_dir
  config.ops, config.layout, config.channels = ("none", "skip_connect", "sep_conv_3x3"), "NR", 4
  config.batch_size, config.num_samples = 4, 16000
  config.epochs, config.warmup_epochs, config.steps_per_epoch = 1, 1, 1
  config.frontend, config.sinc = "sinc", dict(SINC, scale="inverse_mel")
  config.progress = False
  result = search.run_search(config, tmp_path, devices=DEVICES)
  assert (tmp_path / "genotype.json").is_file() and result is not None
