"""LFCC, frequency masking and the fixed-length waveform, against NumPy/SciPy from the formulas."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.fft
import scipy.signal

from fakenas_jax import audio
from fakenas_jax.audio import lfcc as lfcc_lib


def _reference_lfcc(x, *, sr=16000, n_fft=1024, win=1024, hop=256, filters=70, ceps=20):
  """LFCC of one waveform (float64), written independently from the definition."""
  x = np.asarray(x, np.float64)
  padded = np.concatenate([np.zeros(n_fft // 2), x, np.zeros(n_fft // 2)])
  count = 1 + (len(padded) - n_fft) // hop
  window = np.zeros(n_fft)
  left = (n_fft - win) // 2
  window[left : left + win] = scipy.signal.get_window("hamming", win, fftbins=True)
  stacked = np.stack([padded[t * hop : t * hop + n_fft] * window for t in range(count)])
  power = np.abs(np.fft.rfft(stacked, axis=1)) ** 2  # (T, bins)
  freqs = np.linspace(0, sr / 2, n_fft // 2 + 1)
  edges = np.linspace(0, sr / 2, filters + 2)
  bank = np.stack(
    [
      np.maximum(0.0, np.minimum((freqs - a) / (b - a), (c - freqs) / (c - b)))
      for a, b, c in zip(edges[:-2], edges[1:-1], edges[2:])
    ],
    axis=1,
  )
  energies = np.log10(power @ bank + np.finfo(np.float32).eps)
  c = scipy.fft.dct(energies, type=2, norm="ortho", axis=1)[:, :ceps].T  # (ceps, T)

  def diff(v):
    grown = np.concatenate([v[:, :1], v, v[:, -1:]], axis=1)
    return grown[:, 2:] - grown[:, :-2]

  d = diff(c)
  return np.concatenate([c, d, diff(d)], axis=0)


def _speechlike(rng, n):
  """Noise, a few tones with an envelope, and a stretch of exact silence."""
  t = np.arange(n) / 16000
  x = 0.05 * rng.standard_normal(n)
  for f in rng.uniform(80, 7000, 5):
    x += rng.uniform(0.05, 0.3) * np.sin(2 * np.pi * f * t + rng.uniform(0, 6))
  x *= 0.5 + 0.5 * np.sin(2 * np.pi * 3 * t) ** 2
  x[n // 3 : n // 3 + 3000] = 0.0
  return (x / np.abs(x).max() * 0.9).astype(np.float32)


def test_four_seconds_give_60_by_251():
  assert lfcc_lib.DEFAULT_CONFIG.num_frames(audio.FIXED_LENGTH) == 251
  out = jax.jit(lfcc_lib.lfcc)(jnp.zeros((2, audio.FIXED_LENGTH), jnp.float32))
  assert out.shape == (2, 60, 251) and out.dtype == jnp.float32
  # Silence: every filter output is log10(eps); its DCT is nonzero only in c0; deltas are 0.
  np.testing.assert_allclose(out[0, 0], np.log10(np.finfo(np.float32).eps) * np.sqrt(70), rtol=1e-5)
  np.testing.assert_allclose(out[0, 1:], 0.0, atol=1e-5)


def test_matches_an_independent_numpy_implementation_on_random_audio():
  rng = np.random.default_rng(0)
  batch = np.stack(
    [
      _speechlike(rng, audio.FIXED_LENGTH),
      rng.uniform(-1, 1, audio.FIXED_LENGTH).astype(np.float32),
    ]
  )
  got = np.asarray(jax.jit(lfcc_lib.lfcc)(batch))
  for index in range(len(batch)):
    want = _reference_lfcc(batch[index])
    assert got[index].shape == want.shape == (60, 251)
    np.testing.assert_allclose(got[index], want, rtol=1e-5, atol=2e-4)


def test_other_sizes_and_a_hop_that_does_not_divide_the_fft():
  rng = np.random.default_rng(1)
  config = audio.LFCCConfig(n_fft=512, win_length=400, hop_length=160, num_filters=40, num_ceps=13)
  for n in (1000, 4321):
    x = _speechlike(rng, n)
    got = np.asarray(lfcc_lib.lfcc(x, config))
    want = _reference_lfcc(x, n_fft=512, win=400, hop=160, filters=40, ceps=13)
    assert got.shape == (39, 1 + n // 160)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=2e-4)
  # The divisible path with a length that is not a multiple of the hop.
  x = _speechlike(rng, 5000)
  np.testing.assert_allclose(np.asarray(lfcc_lib.lfcc(x)), _reference_lfcc(x), rtol=1e-5, atol=2e-4)


def test_batched_equals_one_by_one_and_vmaps():
  rng = np.random.default_rng(2)
  batch = np.stack([_speechlike(rng, 8000) for _ in range(3)])
  together = np.asarray(jax.jit(lfcc_lib.lfcc)(batch))
  mapped = np.asarray(jax.vmap(lfcc_lib.lfcc)(batch))
  for index in range(3):
    alone = np.asarray(lfcc_lib.lfcc(batch[index]))
    np.testing.assert_allclose(together[index], alone, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(mapped[index], alone, rtol=1e-5, atol=1e-4)


def test_building_blocks_match_their_formulas():
  np.testing.assert_allclose(
    lfcc_lib.hamming_window(1024),
    scipy.signal.get_window("hamming", 1024, fftbins=True),
    atol=1e-12,
  )
  dct = lfcc_lib.dct_matrix(70, 20)
  np.testing.assert_allclose(dct, scipy.fft.dct(np.eye(70), norm="ortho", axis=0)[:20], atol=1e-12)
  bank = lfcc_lib.linear_filter_bank(1024, 16000, 70)
  assert bank.shape == (513, 70)
  assert (bank >= 0).all() and (bank <= 1).all()
  # Neighbouring triangles cross-fade: inside the covered band the rows sum to 1.
  freqs = np.linspace(0, 8000, 513)
  inner = (freqs > 8000 / 71) & (freqs < 8000 - 8000 / 71)
  np.testing.assert_allclose(bank[inner].sum(1), 1.0, atol=1e-9)
  centres = freqs[bank.argmax(0)]
  np.testing.assert_allclose(centres, np.linspace(0, 8000, 72)[1:-1], atol=8000 / 512 / 2)
  x = jnp.asarray([[1.0, 4.0, 9.0, 16.0]])
  np.testing.assert_allclose(lfcc_lib.delta(x), [[3.0, 8.0, 12.0, 7.0]])


def test_integer_audio_is_refused():
  with pytest.raises(TypeError, match="float waveform"):
    lfcc_lib.lfcc(np.zeros(1000, np.int16))
  with pytest.raises(ValueError, match="num_ceps"):
    audio.LFCCConfig(num_ceps=80)


def _expected_mask(key, rows, max_width, draws_shape=()):
  u_width, u_start = np.asarray(jax.random.uniform(key, (2,) + draws_shape))
  width = u_width * max_width
  start = np.floor(u_start * (rows - width))
  stop = start + np.floor(width)
  index = np.arange(rows)
  return (index >= start[..., None]) & (index < stop[..., None])


def test_frequency_mask_follows_torchaudio_rule():
  features = jnp.asarray(np.random.default_rng(3).standard_normal((4, 60, 7)) + 5.0, jnp.float32)
  seen_widths = set()
  for seed in range(40):
    key = jax.random.key(seed)
    masked = np.asarray(audio.frequency_mask(features, key))
    zero_rows = (masked == 0).all(axis=(0, 2))
    np.testing.assert_array_equal(zero_rows, _expected_mask(key, 60, 14))
    rows = np.flatnonzero(zero_rows)
    assert len(rows) <= 13 and (len(rows) == 0 or np.ptp(rows) == len(rows) - 1)
    np.testing.assert_array_equal(masked[:, ~zero_rows], np.asarray(features)[:, ~zero_rows])
    seen_widths.add(len(rows))
  assert len(seen_widths) >= 6  # widths spread over 0..13


def test_per_example_masks_differ_and_nhwc_axis_works():
  features = jnp.ones((6, 60, 5, 1), jnp.float32)
  key = jax.random.key(7)
  masked = np.asarray(audio.frequency_mask(features, key, axis=1, per_example=True))
  zero_rows = (masked == 0).all(axis=(2, 3))  # (6, 60)
  np.testing.assert_array_equal(zero_rows, _expected_mask(key, 60, 14, (6,)))
  assert len({tuple(r) for r in zero_rows}) > 1


def test_features_wrapper_is_nhwc_and_masks_under_jit():
  rng = np.random.default_rng(4)
  batch = jnp.asarray(np.stack([_speechlike(rng, 16000) for _ in range(2)]))
  step = jax.jit(audio.features, static_argnames=("mask",))
  plain = step(batch)
  assert plain.shape == (2, 60, 63, 1)
  np.testing.assert_allclose(plain[..., 0], lfcc_lib.lfcc(batch), rtol=1e-6, atol=1e-5)
  key = jax.random.key(11)
  masked = step(batch, key, mask=True)
  expected = _expected_mask(key, 60, 14)
  np.testing.assert_array_equal(np.asarray(masked[:, expected]), 0.0)
  np.testing.assert_allclose(masked[:, ~expected], plain[:, ~expected], rtol=1e-6, atol=1e-5)
  with pytest.raises(ValueError, match="PRNG key"):
    audio.features(batch, mask=True)


def test_fit_length_cuts_or_repeats_like_the_reference_loader():
  def doubling(x, length):  # the reference: concatenate with itself until long enough, cut
    while x.shape[0] < length:
      x = np.concatenate((x, x))
    return x[:length]

  rng = np.random.default_rng(5)
  for n in (1, 7, 999, 64000, 70001):
    x = rng.standard_normal(n).astype(np.float32)
    np.testing.assert_array_equal(audio.fit_length(x), doubling(x, 64000))
  with pytest.raises(ValueError, match="empty"):
    audio.fit_length(np.zeros(0, np.float32))
  pcm = np.array([-32768, -1, 0, 1, 32767], np.int16)
  np.testing.assert_array_equal(audio.float_to_pcm16(audio.pcm16_to_float(pcm)), pcm)
