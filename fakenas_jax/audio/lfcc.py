"""Linear-frequency cepstral coefficients (LFCC) as a pure JAX function, batched, on the device.

The front end of the PC-DARTS spoofing detectors (Ge et al., paper 003), defined as its authors'
public code computes it, so that features and scores are comparable:

1. STFT: n_fft 1024, window 1024, hop 256, periodic Hamming window, centred frames (the signal is
   zero-padded by n_fft // 2 on both sides), one-sided; T = 1 + N // hop frames (251 for the
   64,000 samples of a 4 s utterance at 16 kHz).
2. Power spectrum |X|^2.
3. 70 triangular filters on the bin frequencies f = (sr / 2) · linspace(0, 1, n_fft // 2 + 1),
   band edges e = linspace(min f, max f, 72): filter k rises on (e_k, e_{k+1}), falls on
   (e_{k+1}, e_{k+2}) and is 1 at e_{k+1} (`linear_filter_bank`).
4. log10(power · fb + eps), eps = float32 machine epsilon.
5. Orthonormal DCT-II over the 70 filter outputs, the first 20 coefficients c.
6. Δ_t = c_{t+1} − c_{t−1} with the first and last frame repeated (no division), ΔΔ = Δ(Δ).

No pre-emphasis, no energy term, no mean/variance normalisation. The output is [c; Δ; ΔΔ] with
the 60 coefficients on the second-to-last axis: (..., 60, T). Networks see it as NHWC
(B, 60, T, 1) — height = coefficients, width = time — as the reference feeds (B, 1, 60, T) to
its NCHW stem (`fakenas_jax.audio.frontend`).

The filter bank, window and DCT are NumPy constants of the config (float64, cast to float32);
the matrix products run at the highest precision, so accelerators that would otherwise use
reduced-precision matrix units give the same features as the CPU.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np

LOG_EPS = float(np.finfo(np.float32).eps)


@dataclasses.dataclass(frozen=True)
class LFCCConfig:
  """The LFCC definition; the defaults are those of the PC-DARTS spoofing code."""

  sample_rate: int = 16000
  n_fft: int = 1024
  win_length: int = 1024
  hop_length: int = 256
  num_filters: int = 70
  num_ceps: int = 20
  deltas: bool = True

  def __post_init__(self):
    if self.sample_rate <= 0:
      raise ValueError(f"sample_rate must be positive, got {self.sample_rate}")
    if self.n_fft < 2 or self.hop_length < 1:
      raise ValueError(
        f"need n_fft >= 2 and hop_length >= 1, got n_fft={self.n_fft}, hop_length={self.hop_length}"
      )
    if not 1 <= self.win_length <= self.n_fft:
      raise ValueError(f"win_length must be in [1, n_fft={self.n_fft}], got {self.win_length}")
    if self.num_filters < 1 or not 1 <= self.num_ceps <= self.num_filters:
      raise ValueError(
        f"need 1 <= num_ceps <= num_filters, got num_ceps={self.num_ceps}, "
        f"num_filters={self.num_filters}"
      )

  @property
  def num_bins(self) -> int:
    return self.n_fft // 2 + 1

  @property
  def num_features(self) -> int:
    """Rows of the output: num_ceps, times 3 with Δ and ΔΔ."""
    return self.num_ceps * (3 if self.deltas else 1)

  def num_frames(self, num_samples: int) -> int:
    """T of a centred STFT of `num_samples` samples: 1 + num_samples // hop_length."""
    return 1 + num_samples // self.hop_length


DEFAULT_CONFIG = LFCCConfig()


def hamming_window(length: int) -> np.ndarray:
  """Periodic Hamming window: 0.54 − 0.46 cos(2πn / length), n = 0 … length − 1."""
  n = np.arange(length, dtype=np.float64)
  return 0.54 - 0.46 * np.cos(2.0 * np.pi * n / length)


def padded_window(config: LFCCConfig) -> np.ndarray:
  """The window of length win_length, zero-padded on both sides to n_fft (centred)."""
  left = (config.n_fft - config.win_length) // 2
  window = np.zeros(config.n_fft)
  window[left : left + config.win_length] = hamming_window(config.win_length)
  return window


def linear_filter_bank(n_fft: int, sample_rate: int, num_filters: int) -> np.ndarray:
  """(n_fft // 2 + 1, num_filters) triangular filters with linearly spaced band edges (step 3)."""
  freqs = (sample_rate / 2) * np.linspace(0.0, 1.0, n_fft // 2 + 1)
  edges = np.linspace(freqs.min(), freqs.max(), num_filters + 2)
  bank = np.zeros((freqs.size, num_filters))
  for k in range(num_filters):
    low, centre, high = edges[k], edges[k + 1], edges[k + 2]
    rising = (freqs > low) & (freqs < centre)
    falling = (freqs > centre) & (freqs < high)
    bank[rising, k] = (freqs[rising] - low) / (centre - low)
    bank[falling, k] = (high - freqs[falling]) / (high - centre)
    bank[freqs == centre, k] = 1.0
  return bank


def dct_matrix(size: int, count: int) -> np.ndarray:
  """(count, size): the first `count` rows of the orthonormal DCT-II of length `size`."""
  n = np.arange(size)
  k = np.arange(count)[:, None]
  matrix = np.cos(np.pi * k * (2 * n + 1) / (2 * size)) * np.sqrt(2.0 / size)
  matrix[0] /= np.sqrt(2.0)
  return matrix


@functools.cache
def _constants(config: LFCCConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  window = padded_window(config).astype(np.float32)
  bank = linear_filter_bank(config.n_fft, config.sample_rate, config.num_filters)
  dct = dct_matrix(config.num_filters, config.num_ceps)
  return window, bank.astype(np.float32), dct.T.astype(np.float32)


def frames(audio: jax.Array, config: LFCCConfig = DEFAULT_CONFIG) -> jax.Array:
  """(..., N) -> (..., T, n_fft): centred, zero-padded frames, T = 1 + N // hop."""
  num_samples = audio.shape[-1]
  count = config.num_frames(num_samples)
  half = config.n_fft // 2
  hop = config.hop_length
  if config.n_fft % hop == 0:
    # Frame t is chunks t … t + r − 1 of the hop-sized chunks (r = n_fft / hop): r slices.
    per_frame = config.n_fft // hop
    chunks = count + per_frame - 1
    tail = chunks * hop - (num_samples + half)
    padded = _pad_last(audio, half, tail)[..., : chunks * hop]
    blocks = padded.reshape(audio.shape[:-1] + (chunks, hop))
    return jnp.concatenate([blocks[..., k : k + count, :] for k in range(per_frame)], axis=-1)
  tail = (count - 1) * hop + config.n_fft - (num_samples + half)
  padded = _pad_last(audio, half, tail)
  index = np.arange(count)[:, None] * hop + np.arange(config.n_fft)[None, :]
  return padded[..., index]


def _pad_last(audio: jax.Array, left: int, right: int) -> jax.Array:
  widths = [(0, 0)] * (audio.ndim - 1) + [(left, max(right, 0))]
  return jnp.pad(audio, widths)


def power_spectrogram(audio: jax.Array, config: LFCCConfig = DEFAULT_CONFIG) -> jax.Array:
  """(..., N) -> (..., T, n_fft // 2 + 1): |STFT|^2 with the periodic Hamming window (steps 1–2)."""
  window, _, _ = _constants(config)
  spectrum = jnp.fft.rfft(frames(audio, config) * window, n=config.n_fft, axis=-1)
  return jnp.square(spectrum.real) + jnp.square(spectrum.imag)


def delta(x: jax.Array, axis: int = -1) -> jax.Array:
  """Δ_t = x_{t+1} − x_{t−1} along `axis`, the first and last entries repeated (step 6)."""
  x = jnp.moveaxis(x, axis, -1)
  padded = jnp.concatenate([x[..., :1], x, x[..., -1:]], axis=-1)
  return jnp.moveaxis(padded[..., 2:] - padded[..., :-2], -1, axis)


def lfcc(audio: jax.Array, config: LFCCConfig = DEFAULT_CONFIG) -> jax.Array:
  """(..., N) float waveform in [-1, 1] at `config.sample_rate` -> (..., 60, T) LFCC [c; Δ; ΔΔ].

  Pure and shape-polymorphic over the leading axes, so it can be jitted, vmapped and run inside
  a training step on a batch (B, N).
  """
  audio = jnp.asarray(audio)
  if not jnp.issubdtype(audio.dtype, jnp.floating):
    raise TypeError(
      f"lfcc expects a float waveform in [-1, 1] (e.g. int16 PCM / 32768), got dtype {audio.dtype}"
    )
  if audio.ndim < 1 or audio.shape[-1] < 1:
    raise ValueError(f"lfcc expects audio of shape (..., num_samples), got {audio.shape}")
  _, bank, dct = _constants(config)
  audio = audio.astype(jnp.float32)
  power = power_spectrogram(audio, config)
  highest = jax.lax.Precision.HIGHEST
  energies = jnp.log10(jnp.matmul(power, bank, precision=highest) + LOG_EPS)
  ceps = jnp.swapaxes(jnp.matmul(energies, dct, precision=highest), -1, -2)  # (..., C, T)
  if not config.deltas:
    return ceps
  first = delta(ceps)
  return jnp.concatenate([ceps, first, delta(first)], axis=-2)
