"""The synthetic spoofing corpus generator: determinism, voices, and each attack family's artifact.

Each family is checked with a simple statistic computed here from the waveform, on a few short
utterances: the spoofs must differ from bona fide speech in the direction the artifact implies.
"""

import functools

import numpy as np
import pytest
import scipy.linalg
import scipy.ndimage
import scipy.signal
import scipy.stats

from fakenas_jax.data import synthetic_speech as ss

SR = 16000
COUNT = 6  # utterances per group


@functools.cache
def _utterances(attack_id: str) -> tuple[np.ndarray, ...]:
  return tuple(
    ss.generate_utterance(
      ss.make_speaker(k % 4), attack_id, (5, 0, k, 1), seconds=(1.0, 1.5)
    ).astype(np.float64)
    for k in range(COUNT)
  )


def _frames(x, size=512, hop=256):
  return np.lib.stride_tricks.sliding_window_view(x, size)[::hop]


def _loud(energies, quantile):
  return energies > np.quantile(energies, quantile)


def band_energy_fraction(x, above_hz):
  freqs, power = scipy.signal.welch(x, SR, nperseg=1024)
  return power[freqs > above_hz].sum() / power.sum()


def residual_kurtosis(x, order=18):
  """Median kurtosis of the LPC residual of the loud frames: high for pulse-like excitation."""
  frames = _frames(x) * np.hanning(512)
  values = []
  for frame in frames[_loud((frames**2).sum(1), 0.6)]:
    r = np.correlate(frame, frame, "full")[511 : 511 + order + 1]
    r[0] *= 1 + 1e-9
    a = scipy.linalg.solve_toeplitz(r[:-1], r[1:])
    residual = scipy.signal.lfilter(np.r_[1.0, -a], [1.0], frame)[order:]
    values.append(scipy.stats.kurtosis(residual, fisher=False))
  return np.median(values)


def cepstral_detail(x):
  """Mean energy of cepstral coefficients 12–39 (formant detail) over the loud frames."""
  _, _, spectrum = scipy.signal.stft(x, nperseg=512, noverlap=384)
  loud = _loud((np.abs(spectrum) ** 2).sum(0), 0.6)
  cepstrum = np.fft.irfft(np.log(np.abs(spectrum[:, loud]) + 1e-9).T, axis=1)
  return np.mean((cepstrum[:, 12:40] ** 2).sum(1))


def click_ratio(x, window=257):
  """Largest second difference relative to its local RMS: a waveform discontinuity stands out."""
  second = np.diff(x, 2)
  local = np.sqrt(scipy.ndimage.uniform_filter1d(second**2, window) + 1e-12)
  return np.max(np.abs(second) / local)


def spectral_tilt_db(x):
  """Median 2–4 kHz over 0.05–1 kHz energy (dB) in the frames loudest at low frequencies."""
  freqs, _, spectrum = scipy.signal.stft(x, SR, nperseg=512, noverlap=256)
  power = np.abs(spectrum) ** 2
  low = power[(freqs > 50) & (freqs < 1000)].sum(0)
  mid = power[(freqs > 2000) & (freqs < 4000)].sum(0)
  loud = _loud(low, 0.7)
  return np.median(10 * np.log10(mid[loud] / low[loud]))


def _mean(statistic, attack_id, **kwargs):
  return np.mean([statistic(x, **kwargs) for x in _utterances(attack_id)])


def test_same_seed_same_waveform_other_seed_other_waveform():
  speaker = ss.make_speaker(3, seed=1)
  assert speaker == ss.make_speaker(3, seed=1) != ss.make_speaker(3, seed=2)
  for attack_id in ("-", "A04", "A07"):
    a = ss.generate_utterance(speaker, attack_id, (1, 2, 3), seconds=(1.0, 1.2))
    b = ss.generate_utterance(speaker, attack_id, (1, 2, 3), seconds=(1.0, 1.2))
    c = ss.generate_utterance(speaker, attack_id, (1, 2, 4), seconds=(1.0, 1.2))
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float32 and np.abs(a).max() <= 1.0
    assert 16000 <= a.size <= 1.2 * 16000 + ss.FRAME_SAMPLES
    assert c.size != a.size or not np.array_equal(a, c)


def test_voices_speak_at_their_pitch():
  """The autocorrelation pitch of the loudest frames is near the speaker's median f0."""
  for index in range(4):
    speaker = ss.make_speaker(index)
    x = ss.generate_utterance(speaker, "-", (0, index), seconds=(2.0, 2.0)).astype(np.float64)
    frames = _frames(x, 1024, 512)
    estimates = []
    for frame in frames[_loud((frames**2).sum(1), 0.7)]:
      ac = np.correlate(frame, frame, "full")[1023:]
      lags = np.arange(SR // 400, SR // 70)
      estimates.append(SR / lags[np.argmax(ac[lags])])
    ratio = np.median(estimates) / speaker.median_f0
    assert 0.7 < ratio < 1.45, (speaker, np.median(estimates))
  assert ss.make_speaker(0).median_f0 < 150 < ss.make_speaker(1).median_f0


def test_family_a_band_limit_empties_the_band_above_the_cutoff():
  for attack_id, cutoff in (("A01", 4000), ("A09", 6000)):
    bona_fide = _mean(band_energy_fraction, "-", above_hz=cutoff + 200)
    spoof = _mean(band_energy_fraction, attack_id, above_hz=cutoff + 200)
    assert spoof < 0.1 * bona_fide, (attack_id, spoof, bona_fide)


def test_family_b_random_phase_removes_the_pulse_structure():
  bona_fide = _mean(residual_kurtosis, "-")
  for attack_id in ("A02", "A06"):
    spoof = _mean(residual_kurtosis, attack_id)
    assert spoof < bona_fide - 1.5, (attack_id, spoof, bona_fide)


def test_family_c_smoothing_flattens_the_envelope():
  bona_fide = _mean(cepstral_detail, "-")
  for attack_id in ("A03", "A10"):
    spoof = _mean(cepstral_detail, attack_id)
    assert spoof < 0.5 * bona_fide, (attack_id, spoof, bona_fide)


def test_family_d_concatenation_leaves_clicks():
  bona_fide = _mean(click_ratio, "-")
  spoof = _mean(click_ratio, "A07")
  assert spoof > bona_fide + 1.0, (spoof, bona_fide)


def test_family_e_impulse_vocoder_has_a_flatter_source():
  bona_fide = _mean(spectral_tilt_db, "-")
  spoof = _mean(spectral_tilt_db, "A04")
  assert spoof > bona_fide + 6.0, (spoof, bona_fide)


def test_attack_table_mirrors_the_asvspoof_protocol():
  train, dev, evaluation = (set(ss.SPLIT_ATTACKS[s]) for s in ("train", "dev", "eval"))
  assert train == dev and not train & evaluation
  train_families = {f for a in train for f in ss.ATTACKS[a].families}
  eval_families = {f for a in evaluation for f in ss.ATTACKS[a].families}
  assert "concatenate" in eval_families - train_families  # an unseen family at evaluation
  assert set(ss.FAMILIES) == train_families | eval_families
  known = {a: ss.ATTACKS[a].same_as for a in evaluation if ss.ATTACKS[a].same_as}
  assert known and all(ss.ATTACKS[a].steps == ss.ATTACKS[b].steps for a, b in known.items())


@pytest.mark.parametrize("bad", [dict(attack_id="A99"), dict(seconds=(2.0, 1.0))])
def test_bad_requests_are_refused(bad):
  kwargs = dict(speaker=ss.make_speaker(0), attack_id="-", seed=(0,), seconds=(1.0, 1.0))
  kwargs.update(bad)
  with pytest.raises(ValueError):
    ss.generate_utterance(**kwargs)
