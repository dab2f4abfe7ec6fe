"""Excitation signals: the glottal source of voiced sounds and a plain impulse train.

The glottal source follows the Rosenberg pulse: within each period (phase φ in [0, 1)) the flow
rises as (1 − cos(πφ/T_p)) / 2 for φ < T_p, falls as cos(π(φ − T_p) / (2 T_n)) until
T_p + T_n, and is zero while the glottis is closed. The radiated excitation is the flow's
derivative (lip radiation), whose sharp negative peak at each closure gives speech its peaky,
phase-coherent pulses. Every period gets its own small pitch (jitter) and amplitude (shimmer)
perturbation, and aspiration noise gated by the flow adds breathiness.

The impulse train — one unit sample per period, no pulse shape, no perturbations — is the
excitation of simple parametric vocoders: its spectrum is flat where the glottal source's falls
with frequency.
"""

from __future__ import annotations

import numpy as np


def _phase(f0: np.ndarray, sample_rate: int) -> np.ndarray:
  """Cumulative pitch phase in periods: sample n is in period floor(phase[n])."""
  return np.cumsum(f0 / sample_rate)


def glottal_source(
  f0: np.ndarray,
  rng: np.random.Generator,
  *,
  sample_rate: int,
  open_phase: float,
  closing_phase: float,
  jitter: float,
  shimmer: float,
  breathiness: float,
) -> np.ndarray:
  """Rosenberg flow derivative (+ aspiration) for a per-sample pitch track `f0` (Hz)."""
  if not (0 < open_phase and 0 < closing_phase and open_phase + closing_phase < 1):
    raise ValueError(
      f"need 0 < open_phase, 0 < closing_phase, open + closing < 1, got "
      f"{open_phase}, {closing_phase}"
    )
  periods = int(np.ceil(f0.sum() / sample_rate)) + 2
  period_jitter = 1.0 + jitter * rng.standard_normal(periods)
  period_gain = 1.0 + shimmer * rng.standard_normal(periods)
  rough = np.floor(_phase(f0, sample_rate)).astype(np.int64)
  phase = _phase(f0 * period_jitter[rough], sample_rate)
  period = np.floor(phase).astype(np.int64)
  phi = phase - period
  closing = phi - open_phase
  flow = np.where(
    phi < open_phase,
    0.5 * (1.0 - np.cos(np.pi * phi / open_phase)),
    np.where(closing < closing_phase, np.cos(0.5 * np.pi * closing / closing_phase), 0.0),
  )
  flow *= period_gain[np.minimum(period, periods - 1)]
  derivative = np.diff(flow, prepend=flow[:1])
  derivative /= np.abs(derivative).max() or 1.0  # peak 1
  return derivative + breathiness * flow * rng.standard_normal(flow.size)


def impulse_train(f0: np.ndarray, *, sample_rate: int) -> np.ndarray:
  """A unit impulse at the first sample of every pitch period."""
  period = np.floor(_phase(f0, sample_rate)).astype(np.int64)
  return np.diff(period, prepend=0).astype(np.float64)
