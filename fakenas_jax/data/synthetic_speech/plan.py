"""The plan of one utterance: what is said and how, as control tracks at a 5 ms frame rate.

An utterance is a string of syllables ([consonant] vowel [consonant]) with occasional pauses
between words and silence at both ends. Its plan holds, per 5 ms control frame: the pitch f0
(Hz), the voicing amplitude, the formant frequencies F1–F5, and the amplitude of each frication
band. Formant targets are held through a segment and smoothed over ~40 ms (coarticulation);
consonants without their own formants take the neighbouring vowel's. Intonation is a
declination line plus one to three phrase accents and a slow wander, in semitones around the
speaker's median pitch. `render.synthesize` turns a plan into a waveform.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.ndimage

from fakenas_jax.data.synthetic_speech import phonetics
from fakenas_jax.data.synthetic_speech.speakers import Speaker

SAMPLE_RATE = 16000
FRAME_SAMPLES = 80  # 5 ms control frames
BAND_NAMES = tuple(phonetics.FRICATION_BANDS)


@dataclasses.dataclass(frozen=True, eq=False)
class UtterancePlan:
  """Control tracks of one utterance; every track has one row per 5 ms frame."""

  num_samples: int
  f0: np.ndarray  # (frames,) Hz
  voicing: np.ndarray  # (frames,) glottal source amplitude, 0 = unvoiced
  formants: np.ndarray  # (frames, 5) Hz
  bandwidths: np.ndarray  # (5,) Hz
  frication: np.ndarray  # (frames, len(BAND_NAMES)) linear amplitude of each noise band
  phones: tuple[str, ...]  # what is said, for inspection

  @property
  def num_frames(self) -> int:
    return len(self.f0)

  def replace(self, **changes) -> "UtterancePlan":
    return dataclasses.replace(self, **changes)


def _segments(speaker: Speaker, rng: np.random.Generator, seconds: float):
  """(phone, duration in frames) pairs filling `seconds`, silence at both ends."""
  frame_ms = 1000 * FRAME_SAMPLES / SAMPLE_RATE
  total = int(round(seconds * SAMPLE_RATE / FRAME_SAMPLES))

  def frames(low_ms, high_ms):
    return max(1, int(round(rng.uniform(low_ms, high_ms) / speaker.speaking_rate / frame_ms)))

  lead, trail = frames(60, 250), frames(60, 250)
  segments = [(phonetics.PAUSE, lead)]
  used = lead
  budget = total - trail
  while used < budget:
    syllable = []
    if rng.random() < 0.75:
      syllable.append(phonetics.CONSONANTS[rng.integers(len(phonetics.CONSONANTS))])
    syllable.append(phonetics.VOWELS[rng.integers(len(phonetics.VOWELS))])
    if rng.random() < 0.3:
      syllable.append(phonetics.CONSONANTS[rng.integers(len(phonetics.CONSONANTS))])
    if rng.random() < 0.15:
      syllable.append(phonetics.PAUSE)
    for phone in syllable:
      length = frames(*phone.duration_ms)
      segments.append((phone, length))
      used += length
  # Cut to the budget, then end in silence of exactly the remaining length.
  while used > budget and len(segments) > 1:
    phone, length = segments.pop()
    used -= length
    if used < budget:
      segments.append((phone, budget - used))
      used = budget
  segments.append((phonetics.PAUSE, total - used))
  return [(phone, length) for phone, length in segments if length > 0]


def _intonation(speaker: Speaker, rng: np.random.Generator, frames: int) -> np.ndarray:
  """f0 (Hz) per frame: declination + phrase accents + slow wander, around the median."""
  t = np.linspace(0.0, 1.0, frames)
  span = speaker.f0_span_semitones
  semitones = span * (0.5 - t) * rng.uniform(0.6, 1.2)  # declination
  for _ in range(rng.integers(1, 4)):
    centre, width = rng.uniform(0.1, 0.9), rng.uniform(0.05, 0.15)
    semitones += rng.uniform(0.3, 1.0) * span * np.exp(-0.5 * ((t - centre) / width) ** 2)
  wander = scipy.ndimage.gaussian_filter1d(rng.standard_normal(frames), sigma=20, mode="nearest")
  semitones += wander / (np.abs(wander).max() + 1e-9) * 0.8
  return speaker.median_f0 * 2.0 ** (semitones / 12.0)


def plan_utterance(speaker: Speaker, rng: np.random.Generator, seconds: float) -> UtterancePlan:
  """A new utterance of `speaker`, `seconds` long (rounded to whole 5 ms frames)."""
  if not 0.2 <= seconds <= 60.0:
    raise ValueError(f"seconds must be in [0.2, 60], got {seconds}")
  segments = _segments(speaker, rng, seconds)
  frames = sum(length for _, length in segments)
  bands = {name: index for index, name in enumerate(BAND_NAMES)}
  voicing = np.zeros(frames)
  loudness = np.zeros(frames)
  frication = np.zeros((frames, len(BAND_NAMES)))
  targets = np.full((frames, 3), np.nan)
  burst_frames = (
    int(round(rng.uniform(*phonetics.STOP_BURST_MS) * SAMPLE_RATE / 1000 / FRAME_SAMPLES)) or 1
  )
  start = 0
  for phone, length in segments:
    span = slice(start, start + length)
    stress = rng.uniform(0.7, 1.0)
    voicing[span] = phone.voicing
    loudness[span] = phone.loudness * stress
    if phone.formants is not None:
      targets[span] = phone.formants
    if phone.frication is not None:
      level = phone.frication_level * rng.uniform(0.7, 1.0)
      if phone.kind == "stop":  # closure (silence), then the burst
        burst = slice(start + max(0, length - burst_frames), start + length)
        frication[burst, bands[phone.frication]] = level
      else:
        frication[span, bands[phone.frication]] = level
    start += length
  # Consonants and pauses take the formants of the nearest vowel (hold forward, then backward).
  known = ~np.isnan(targets[:, 0])
  if not known.any():
    targets[:] = phonetics.VOWELS[0].formants
  else:
    index = np.where(known, np.arange(frames), -1)
    index = np.maximum.accumulate(index)
    first = np.argmax(known)
    index[index < 0] = first
    targets = targets[index]
  upper = np.broadcast_to(phonetics.UPPER_FORMANTS, (frames, 2))
  formants = np.concatenate([targets, upper], axis=1) * speaker.formant_scale
  formants = scipy.ndimage.uniform_filter1d(formants, size=8, axis=0, mode="nearest")
  ramp = lambda track: scipy.ndimage.uniform_filter1d(track, size=3, axis=0, mode="nearest")
  return UtterancePlan(
    num_samples=frames * FRAME_SAMPLES,
    f0=_intonation(speaker, rng, frames),
    voicing=ramp(voicing * loudness),
    formants=formants,
    bandwidths=np.asarray(phonetics.BANDWIDTHS) * rng.uniform(0.9, 1.2),
    frication=ramp(frication),
    phones=tuple(phone.name for phone, _ in segments),
  )
