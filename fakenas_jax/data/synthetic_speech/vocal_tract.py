"""The vocal tract: a cascade of time-varying formant resonators (Klatt-style cascade branch).

Each formant (F, B) is a two-pole resonator y[n] = g·x[n] + 2r·cos θ·y[n−1] − r²·y[n−2] with
r = exp(−πB / sr), θ = 2πF / sr and g = 1 − 2r·cos θ + r² (unity gain at 0 Hz). The
coefficients change every control frame; the filter state carries across frames, so the
output is continuous.
"""

from __future__ import annotations

import numpy as np
import scipy.signal


def resonator_sections(
  formants: np.ndarray, bandwidths: np.ndarray, sample_rate: int
) -> np.ndarray:
  """(..., K) formants and bandwidths (Hz) -> (..., K, 6) second-order sections (scipy sos)."""
  formants = np.minimum(np.asarray(formants, np.float64), 0.475 * sample_rate)
  radius = np.exp(-np.pi * np.asarray(bandwidths, np.float64) / sample_rate)
  radius = np.broadcast_to(radius, formants.shape)
  cosine = np.cos(2.0 * np.pi * formants / sample_rate)
  a1, a2 = -2.0 * radius * cosine, radius**2
  sections = np.zeros(formants.shape + (6,))
  sections[..., 0] = 1.0 + a1 + a2
  sections[..., 3] = 1.0
  sections[..., 4] = a1
  sections[..., 5] = a2
  return sections


def filter_through_formants(
  excitation: np.ndarray,
  formants: np.ndarray,
  bandwidths: np.ndarray,
  *,
  sample_rate: int,
  frame_samples: int,
) -> np.ndarray:
  """Filters `excitation` with formants (frames, K) held for `frame_samples` samples each."""
  frames = formants.shape[0]
  if frames * frame_samples < excitation.size:
    raise ValueError(
      f"{frames} control frames of {frame_samples} samples do not cover {excitation.size} samples"
    )
  sections = resonator_sections(formants, bandwidths, sample_rate)
  state = np.zeros((formants.shape[1], 2))
  out = np.empty_like(excitation, dtype=np.float64)
  for frame in range(frames):
    span = slice(frame * frame_samples, min((frame + 1) * frame_samples, excitation.size))
    if span.start >= excitation.size:
      break
    out[span], state = scipy.signal.sosfilt(sections[frame], excitation[span], zi=state)
  return out
