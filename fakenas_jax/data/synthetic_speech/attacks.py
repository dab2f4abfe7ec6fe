"""Spoofing attacks: families of vocoder and synthesis artifacts, and the attack table.

Each family imitates one way in which synthetic or converted speech departs from natural speech:

* `band_limit` (family A): a vocoder running at a lower sample rate. Resampled to 2·cutoff and
  back, the band above the cutoff is empty; with `aliased`, the down-sampling skips the
  anti-aliasing filter, so harmonics above the cutoff fold back into the band as inharmonic
  components.
* `random_phase` (family B): magnitude-only resynthesis. The STFT magnitude is kept and the phase
  replaced by random phase (above `from_hz`), then inverted by overlap-add: the glottal pulses
  lose their phase coherence and the waveform its peakiness.
* `smooth_envelope` (family C): an over-smoothed spectral envelope, as statistical parametric
  synthesis produces. Per STFT frame the log-magnitude envelope (real cepstrum liftered to 40
  coefficients) is replaced by a coarser one (`lifter` coefficients), optionally averaged over
  `frames` neighbouring frames; harmonics and phase are kept. Formant peaks flatten.
* `concatenate` (family D): unit-selection concatenation. The utterance is cut into units that
  alternate with units of another utterance of the same speaker, each with its own gain, joined
  without cross-fade: the joins are waveform discontinuities (clicks) and pitch jumps.
* `vocoder_excitation` (family E): a simple parametric vocoder re-synthesises the plan from an
  impulse-train excitation with smoothed intonation and no jitter, shimmer or breathiness: a buzzy
  source whose spectrum does not fall with frequency.

Attack ids follow ASVspoof 2019 LA: training and development attacks A01–A06, evaluation attacks
A07–A12, where A07–A10 are unseen in training (A07 and A08 use family D, absent from training;
A09 and A10 use families A and C with other settings) and A11 and A12 are the systems of A04 and
A06 again under new ids, as A16 and A19 repeat A04 and A06 in ASVspoof 2019.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import scipy.ndimage
import scipy.signal

from fakenas_jax.data.synthetic_speech import render as render_lib
from fakenas_jax.data.synthetic_speech.plan import SAMPLE_RATE, UtterancePlan, plan_utterance
from fakenas_jax.data.synthetic_speech.speakers import Speaker

ENVELOPE_LIFTER = 40  # cepstral coefficients kept for the "true" envelope
STFT_FFT, STFT_HOP = 512, 128


@dataclasses.dataclass(frozen=True)
class Step:
  """One processing step of an attack: a family and its settings."""

  family: str
  settings: tuple[tuple[str, Any], ...] = ()

  @property
  def kwargs(self) -> dict[str, Any]:
    return dict(self.settings)


@dataclasses.dataclass(frozen=True)
class Attack:
  """A spoofing system: steps applied in order; `same_as` names the system it repeats."""

  attack_id: str
  steps: tuple[Step, ...]
  description: str
  same_as: str | None = None

  @property
  def families(self) -> tuple[str, ...]:
    return tuple(step.family for step in self.steps)


def _step(family: str, **settings) -> Step:
  return Step(family, tuple(sorted(settings.items())))


# ---------------------------------------------------------------------------------------------
# The families (waveform in, waveform out, same length)


def band_limit(x: np.ndarray, *, cutoff_hz: int, aliased: bool = False) -> np.ndarray:
  """Family A: through a sample rate of 2·cutoff and back; `aliased` skips the anti-alias filter."""
  if not 0 < cutoff_hz < SAMPLE_RATE // 2:
    raise ValueError(f"cutoff_hz must be in (0, {SAMPLE_RATE // 2}), got {cutoff_hz}")
  low_rate = 2 * cutoff_hz
  divisor = np.gcd(low_rate, SAMPLE_RATE)
  up, down = low_rate // divisor, SAMPLE_RATE // divisor
  if aliased:
    # Exact interpolation to SAMPLE_RATE·up, then plain decimation by `down`: content above the
    # new Nyquist frequency folds back into the band.
    low = scipy.signal.resample_poly(x, up, 1)[::down]
  else:
    low = scipy.signal.resample_poly(x, up, down)
  back = scipy.signal.resample_poly(low, down, up)
  return _fit(back, x.size)


def random_phase(
  x: np.ndarray, rng: np.random.Generator, *, n_fft: int = STFT_FFT, from_hz: float = 0.0
) -> np.ndarray:
  """Family B: STFT magnitude with uniformly random phase (bins at or above `from_hz`), ISTFT."""
  hop = n_fft // 4
  _, _, spectrum = scipy.signal.stft(x, nperseg=n_fft, noverlap=n_fft - hop, window="hann")
  freqs = np.fft.rfftfreq(n_fft, 1.0 / SAMPLE_RATE)
  phase = np.exp(2j * np.pi * rng.random(spectrum.shape))
  replace = (freqs >= from_hz)[:, None]
  spectrum = np.where(replace, np.abs(spectrum) * phase, spectrum)
  _, y = scipy.signal.istft(spectrum, nperseg=n_fft, noverlap=n_fft - hop, window="hann")
  return _fit(y, x.size)


def cepstral_envelope(log_magnitude: np.ndarray, lifter: int) -> np.ndarray:
  """(..., bins) log magnitude -> its envelope: the real cepstrum kept below `lifter`."""
  cepstrum = np.fft.irfft(log_magnitude, axis=-1)
  size = cepstrum.shape[-1]
  keep = np.zeros(size)
  keep[:lifter] = 1.0
  keep[size - lifter + 1 :] = 1.0  # the cepstrum of a real, even spectrum is symmetric
  return np.fft.rfft(cepstrum * keep, axis=-1).real


def smooth_envelope(x: np.ndarray, *, lifter: int, frames: int = 1) -> np.ndarray:
  """Family C: the 40-coefficient envelope replaced by a `lifter`-coefficient, time-averaged one."""
  if not 1 <= lifter < ENVELOPE_LIFTER:
    raise ValueError(f"lifter must be in [1, {ENVELOPE_LIFTER}), got {lifter}")
  _, _, spectrum = scipy.signal.stft(
    x, nperseg=STFT_FFT, noverlap=STFT_FFT - STFT_HOP, window="hann"
  )
  log_magnitude = np.log(np.abs(spectrum) + 1e-9).T  # (frames, bins)
  detailed = cepstral_envelope(log_magnitude, ENVELOPE_LIFTER)
  coarse = cepstral_envelope(log_magnitude, lifter)
  if frames > 1:
    coarse = scipy.ndimage.uniform_filter1d(coarse, size=frames, axis=0, mode="nearest")
  spectrum = spectrum * np.exp(coarse - detailed).T
  _, y = scipy.signal.istft(spectrum, nperseg=STFT_FFT, noverlap=STFT_FFT - STFT_HOP, window="hann")
  return _fit(y, x.size)


def concatenate(
  x: np.ndarray, other: np.ndarray, rng: np.random.Generator, *, units: int
) -> np.ndarray:
  """Family D: `units` units alternating between `x` and `other`, hard joins, own gains."""
  if units < 2:
    raise ValueError(f"units must be >= 2, got {units}")
  n = x.size
  minimum = max(1, n // (4 * units))
  cuts = np.sort(rng.choice(np.arange(minimum, n - minimum), size=units - 1, replace=False))
  bounds = np.concatenate([[0], cuts, [n]])
  donor = _fit(np.resize(other, n) if other.size < n else other, n)
  scale = np.sqrt(np.mean(x**2) / max(np.mean(donor**2), 1e-20))
  out = np.empty(n)
  for index, (start, stop) in enumerate(zip(bounds[:-1], bounds[1:])):
    length = stop - start
    if index % 2 == 0:
      unit = x[start:stop]
    else:  # a unit of the same length from anywhere in the other utterance
      offset = rng.integers(0, n - length + 1)
      unit = donor[offset : offset + length] * scale
    out[start:stop] = unit * 10.0 ** (rng.uniform(-3.0, 3.0) / 20.0)
  return out


def _fit(y: np.ndarray, size: int) -> np.ndarray:
  return y[:size] if y.size >= size else np.pad(y, (0, size - y.size))


# ---------------------------------------------------------------------------------------------
# The attack table

ATTACKS: dict[str, Attack] = {
  attack.attack_id: attack
  for attack in (
    Attack("A01", (_step("band_limit", cutoff_hz=4000),), "8 kHz vocoder: nothing above 4 kHz"),
    Attack(
      "A02",
      (_step("random_phase", n_fft=1024),),
      "magnitude-only resynthesis, random phase, 64 ms frames",
    ),
    Attack(
      "A03",
      (_step("smooth_envelope", lifter=10),),
      "envelope over-smoothed to 10 cepstral coefficients",
    ),
    Attack("A04", (_step("vocoder_excitation"),), "impulse-train vocoder with smoothed intonation"),
    Attack(
      "A05",
      (_step("smooth_envelope", lifter=14), _step("band_limit", cutoff_hz=5000, aliased=True)),
      "over-smoothed envelope through an aliasing 10 kHz vocoder",
    ),
    Attack(
      "A06",
      (_step("random_phase", n_fft=1024, from_hz=1000.0),),
      "random phase above 1 kHz, 64 ms frames",
    ),
    Attack("A07", (_step("concatenate", units=8),), "unit concatenation, 8 units, hard joins"),
    Attack(
      "A08",
      (_step("concatenate", units=5), _step("random_phase", n_fft=256)),
      "unit concatenation, then magnitude-only resynthesis with 16 ms frames",
    ),
    Attack("A09", (_step("band_limit", cutoff_hz=6000, aliased=True),), "aliasing 12 kHz vocoder"),
    Attack(
      "A10",
      (_step("smooth_envelope", lifter=6, frames=7),),
      "envelope smoothed to 6 coefficients and over 35 ms",
    ),
    Attack("A11", (_step("vocoder_excitation"),), "the system of A04", same_as="A04"),
    Attack(
      "A12",
      (_step("random_phase", n_fft=1024, from_hz=1000.0),),
      "the system of A06",
      same_as="A06",
    ),
  )
}

SPLIT_ATTACKS = {
  "train": ("A01", "A02", "A03", "A04", "A05", "A06"),
  "dev": ("A01", "A02", "A03", "A04", "A05", "A06"),
  "eval": ("A07", "A08", "A09", "A10", "A11", "A12"),
}
FAMILIES = ("band_limit", "random_phase", "smooth_envelope", "concatenate", "vocoder_excitation")


def vocoder_plan(plan: UtterancePlan) -> UtterancePlan:
  """The plan as a simple vocoder sees it: intonation smoothed over ~100 ms."""
  return plan.replace(f0=scipy.ndimage.uniform_filter1d(plan.f0, size=21, mode="nearest"))


def vocoder_speaker(speaker: Speaker) -> Speaker:
  """The speaker without jitter, shimmer or breathiness."""
  return dataclasses.replace(speaker, jitter=0.0, shimmer=0.0, breathiness=0.0)


def synthesize_spoof(
  attack: Attack, plan: UtterancePlan, speaker: Speaker, rng: np.random.Generator
) -> np.ndarray:
  """The clean (unrecorded) waveform of `plan` spoken by `speaker` through `attack`."""
  steps = attack.steps
  if steps[0].family == "vocoder_excitation":
    x = render_lib.synthesize(
      vocoder_plan(plan), vocoder_speaker(speaker), rng, excitation="impulse"
    )
    steps = steps[1:]
  else:
    x = render_lib.synthesize(plan, speaker, rng)
  for step in steps:
    x = _apply(step, x, plan, speaker, rng)
  return x


def _apply(
  step: Step, x: np.ndarray, plan: UtterancePlan, speaker: Speaker, rng: np.random.Generator
) -> np.ndarray:
  kwargs = step.kwargs
  if step.family == "band_limit":
    return band_limit(x, **kwargs)
  if step.family == "random_phase":
    return random_phase(x, rng, **kwargs)
  if step.family == "smooth_envelope":
    return smooth_envelope(x, **kwargs)
  if step.family == "concatenate":
    seconds = plan.num_samples / SAMPLE_RATE
    donor_plan = plan_utterance(speaker, rng, seconds)
    return concatenate(x, render_lib.synthesize(donor_plan, speaker, rng), rng, **kwargs)
  raise ValueError(
    f"unknown or misplaced attack step {step.family!r}; families: "
    f"{', '.join(FAMILIES)} (vocoder_excitation only as the first step)"
  )
