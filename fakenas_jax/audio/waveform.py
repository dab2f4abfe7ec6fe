"""Waveform helpers on the host (NumPy): PCM conversion and the fixed length a network sees.

The PC-DARTS spoofing code feeds every utterance as exactly 4 s at 16 kHz (64,000 samples): a
longer one is cut to its first 64,000 samples, a shorter one is repeated from its start
(x, x, x, … then cut), i.e. sample i is x[i mod n]. Audio is read as float in [-1, 1], which is
16-bit PCM / 32768 (what soundfile and librosa return for 16-bit FLAC).
"""

from __future__ import annotations

import numpy as np

SAMPLE_RATE = 16000
FIXED_SECONDS = 4
FIXED_LENGTH = SAMPLE_RATE * FIXED_SECONDS  # 64,000 samples
PCM16_SCALE = 32768.0


def pcm16_to_float(audio: np.ndarray) -> np.ndarray:
  """int16 PCM -> float32 in [-1, 1): x / 32768."""
  audio = np.asarray(audio)
  if audio.dtype != np.int16:
    raise TypeError(f"expected int16 PCM samples, got dtype {audio.dtype}")
  return audio.astype(np.float32) / np.float32(PCM16_SCALE)


def float_to_pcm16(audio: np.ndarray) -> np.ndarray:
  """float waveform in [-1, 1] -> int16 PCM (rounded, clipped to [-32768, 32767])."""
  audio = np.asarray(audio, np.float64)
  if not np.isfinite(audio).all():
    raise ValueError("the waveform holds NaN or infinite samples")
  return np.clip(np.round(audio * PCM16_SCALE), -32768, 32767).astype(np.int16)


def fit_length(audio: np.ndarray, length: int = FIXED_LENGTH) -> np.ndarray:
  """(n,) -> (length,): the first `length` samples; a short utterance repeated from its start."""
  audio = np.asarray(audio)
  if audio.ndim != 1:
    raise ValueError(f"expected a mono waveform of shape (num_samples,), got {audio.shape}")
  if audio.size == 0:
    raise ValueError("cannot fit an empty waveform to a fixed length")
  if length < 1:
    raise ValueError(f"length must be positive, got {length}")
  if audio.size >= length:
    return audio[:length]
  return np.resize(audio, length)
