"""From a plan to a waveform: source-filter synthesis, then the recording channel.

`synthesize` is the source-filter model: the excitation (glottal pulses, or an impulse train for
the vocoder attacks) scaled by the voicing track runs through the formant cascade; each
frication band is white noise through its band-pass, scaled by its track; the two branches are
mixed so that frication sits `speaker.frication_db` below the voiced sounds (RMS over the
frames where each is active). `record` is what every utterance, bona fide or spoofed, goes
through last: a 50 Hz high-pass, a random peak level and a white noise floor 35–50 dB below
the signal.
"""

from __future__ import annotations

import functools

import numpy as np
import scipy.signal

from fakenas_jax.data.synthetic_speech import phonetics, source, vocal_tract
from fakenas_jax.data.synthetic_speech.plan import (
  BAND_NAMES,
  FRAME_SAMPLES,
  SAMPLE_RATE,
  UtterancePlan,
)
from fakenas_jax.data.synthetic_speech.speakers import Speaker

SOURCES = ("glottal", "impulse")


@functools.cache
def _band_pass(name: str) -> np.ndarray:
  low, high = phonetics.FRICATION_BANDS[name]
  return scipy.signal.butter(4, (low, high), btype="bandpass", fs=SAMPLE_RATE, output="sos")


@functools.cache
def _high_pass() -> np.ndarray:
  return scipy.signal.butter(2, 50.0, btype="highpass", fs=SAMPLE_RATE, output="sos")


def per_sample(track: np.ndarray, num_samples: int) -> np.ndarray:
  """A control track (frames, ...) linearly interpolated to samples (frame centres)."""
  centres = (np.arange(track.shape[0]) + 0.5) * FRAME_SAMPLES
  samples = np.arange(num_samples)
  if track.ndim == 1:
    return np.interp(samples, centres, track)
  return np.stack([np.interp(samples, centres, column) for column in track.T], axis=1)


def _rms(x: np.ndarray, active: np.ndarray) -> float:
  return float(np.sqrt(np.mean(x[active] ** 2))) if active.any() else 0.0


def synthesize(
  plan: UtterancePlan, speaker: Speaker, rng: np.random.Generator, *, excitation: str = "glottal"
) -> np.ndarray:
  """The clean waveform (float64, unnormalised) of `plan` spoken by `speaker`."""
  if excitation not in SOURCES:
    raise ValueError(f"excitation must be one of {SOURCES}, got {excitation!r}")
  n = plan.num_samples
  f0 = per_sample(plan.f0, n)
  if excitation == "glottal":
    pulses = source.glottal_source(
      f0,
      rng,
      sample_rate=SAMPLE_RATE,
      open_phase=speaker.open_phase,
      closing_phase=speaker.closing_phase,
      jitter=speaker.jitter,
      shimmer=speaker.shimmer,
      breathiness=speaker.breathiness,
    )
  else:
    pulses = source.impulse_train(f0, sample_rate=SAMPLE_RATE)
  voicing = per_sample(plan.voicing, n)
  voiced = vocal_tract.filter_through_formants(
    pulses * voicing,
    plan.formants,
    plan.bandwidths,
    sample_rate=SAMPLE_RATE,
    frame_samples=FRAME_SAMPLES,
  )
  frication_tracks = per_sample(plan.frication, n)
  noise = np.zeros(n)
  for index, name in enumerate(BAND_NAMES):
    if plan.frication[:, index].any():
      band = scipy.signal.sosfilt(_band_pass(name), rng.standard_normal(n))
      noise += band * frication_tracks[:, index]
  voiced_rms = _rms(voiced, voicing > 0.3)
  noise_rms = _rms(noise, frication_tracks.max(axis=1) > 0.3)
  if voiced_rms > 0 and noise_rms > 0:
    noise *= voiced_rms / noise_rms * 10.0 ** (speaker.frication_db / 20.0)
  return voiced + noise


def record(waveform: np.ndarray, rng: np.random.Generator) -> np.ndarray:
  """The recording channel: 50 Hz high-pass, peak level U(0.3, 0.9), noise floor 35–50 dB down."""
  x = scipy.signal.sosfilt(_high_pass(), np.asarray(waveform, np.float64))
  peak = np.abs(x).max()
  if peak == 0:
    return x
  x *= rng.uniform(0.3, 0.9) / peak
  rms = np.sqrt(np.mean(x**2))
  x += rng.standard_normal(x.size) * rms * 10.0 ** (-rng.uniform(35.0, 50.0) / 20.0)
  return np.clip(x, -1.0, 1.0)
