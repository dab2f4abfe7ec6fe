"""Synthetic speakers: the voice parameters that stay fixed across a speaker's utterances.

A speaker is a pitch range, a vocal-tract length (all formants scaled by one factor), a glottal
pulse shape, voice quality (breathiness, jitter, shimmer) and a speaking rate. Two voice types
play the part of low and high voices (median pitch ~95–140 Hz and ~180–240 Hz, formant scale
~0.92–1.02 and ~1.08–1.18, as adult male and female voices differ). Every parameter is drawn
from `np.random.default_rng((seed, index))`, so speaker `index` of a corpus seed is always the
same voice.
"""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class Speaker:
  """One voice. Pitch in Hz; open/closing phases as fractions of the glottal period."""

  name: str
  low_voice: bool
  median_f0: float
  f0_span_semitones: float  # typical excursion of the intonation around the median
  formant_scale: float  # vocal-tract length: every formant frequency is multiplied by it
  open_phase: float  # Rosenberg pulse: rising part of the period
  closing_phase: float  # falling part; the rest of the period the glottis is closed
  breathiness: float  # aspiration noise relative to the glottal flow
  jitter: float  # relative period-to-period perturbation of the pitch
  shimmer: float  # relative period-to-period perturbation of the amplitude
  speaking_rate: float  # > 1 speaks faster (shorter segments)
  frication_db: float  # level of fricatives relative to vowels


def speaker_name(index: int) -> str:
  return f"S{index:04d}"


def make_speaker(index: int, seed: int = 0) -> Speaker:
  """Speaker `index` of corpus `seed`; voice types alternate with the index."""
  if index < 0:
    raise ValueError(f"speaker index must be >= 0, got {index}")
  rng = np.random.default_rng((seed, index))
  low = index % 2 == 0
  return Speaker(
    name=speaker_name(index),
    low_voice=low,
    median_f0=float(rng.uniform(95, 140) if low else rng.uniform(180, 240)),
    f0_span_semitones=float(rng.uniform(2.0, 4.5)),
    formant_scale=float(rng.uniform(0.92, 1.02) if low else rng.uniform(1.08, 1.18)),
    open_phase=float(rng.uniform(0.35, 0.5)),
    closing_phase=float(rng.uniform(0.12, 0.2)),
    breathiness=float(rng.uniform(0.02, 0.12)),
    jitter=float(rng.uniform(0.004, 0.015)),
    shimmer=float(rng.uniform(0.03, 0.08)),
    speaking_rate=float(rng.uniform(0.85, 1.15)),
    frication_db=float(rng.uniform(-16.0, -9.0)),
  )
