"""Sinc-filter front end on the raw waveform (SincNet, Ravanelli & Bengio 2018; its use as the
first layer of a raw-waveform spoofing search: Raw PC-DARTS, Ge et al., ICASSP 2021, §2).

Filter i is a band-pass between f1 = low_hz[i] and f2 = high_hz[i] (Hz), in normalised
frequencies φ = f / sample_rate and taps n = −(K−1)/2 … (K−1)/2 (K odd):

    g_i[n] = (2 φ2 sinc(2 φ2 n) − 2 φ1 sinc(2 φ1 n)) · w[n],   sinc(x) = sin(πx) / (πx),

w the Hamming window 0.54 − 0.46 cos(2π m / (K − 1)), m = 0 … K−1. Without the window its DTFT
is exactly 1 on φ1 < |φ| < φ2 and 0 elsewhere (the difference of two ideal low-passes); the
window trades the sharp edge for small ripple.

Initial bands (`initial_bands`), F filters side by side from `min_hz` to the Nyquist frequency,
filter i spanning [e_i, e_{i+1}] of F + 1 edges e:

* 'mel': edges equally spaced on the mel scale m = 2595 log10(1 + f / 700) (narrow filters at
  low frequencies, SincNet's initialisation);
* 'inverse_mel': the mel edges mirrored, e'_k = min_hz + nyquist − e_{F−k} (narrow filters at high
  frequencies, where spoofing artefacts live; RawNet2's inverse-mel scale);
* 'linear': equally spaced in Hz.

What a network sees (`sinc_features`): the waveform convolved with the F filters (stride
`stride`, zero padding (K−1)/2 each side), rectified |·|, max-pooled over `pool` outputs
(Raw PC-DARTS: |·| → max pool), log-compressed log(|·| + 1e-6) as the LFCC's log spectrum, as a
(B, F, T', 1) map: filters as the height, frames as the width, like the LFCC image.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from fakenas_jax.audio.waveform import SAMPLE_RATE

SCALES = ("mel", "inverse_mel", "linear")
LOG_FLOOR = 1e-6


@dataclasses.dataclass(frozen=True)
class SincConfig:
  """The sinc front end (module docstring). `learnable`: the band edges are trained."""

  filters: int = 64
  kernel_size: int = 129
  scale: str = "mel"
  learnable: bool = True
  stride: int = 1
  pool: int = 3
  min_hz: float = 0.0
  min_band_hz: float = 50.0  # the narrowest band a learnable filter may shrink to
  sample_rate: int = SAMPLE_RATE

  def __post_init__(self):
    if self.scale not in SCALES:
      raise ValueError(f"sinc scale must be one of {', '.join(SCALES)}, got {self.scale!r}")
    if self.kernel_size < 3 or self.kernel_size % 2 == 0:
      raise ValueError(f"sinc kernel_size must be odd and ≥ 3, got {self.kernel_size}")
    if self.filters < 1 or self.stride < 1 or self.pool < 1:
      raise ValueError(
        f"sinc filters, stride and pool must be ≥ 1, got {self.filters}, {self.stride}, {self.pool}"
      )
    if not 0.0 <= self.min_hz < self.sample_rate / 2:
      raise ValueError(f"sinc min_hz must lie in [0, {self.sample_rate / 2}), got {self.min_hz}")


def hz_to_mel(hz):
  return 2595.0 * np.log10(1.0 + np.asarray(hz, np.float64) / 700.0)


def mel_to_hz(mel):
  return 700.0 * (10.0 ** (np.asarray(mel, np.float64) / 2595.0) - 1.0)


def band_edges(config: SincConfig) -> np.ndarray:
  """The F + 1 edges (Hz) of the initial bands, ascending."""
  nyquist = config.sample_rate / 2
  if config.scale == "linear":
    return np.linspace(config.min_hz, nyquist, config.filters + 1)
  mel = mel_to_hz(np.linspace(hz_to_mel(config.min_hz), hz_to_mel(nyquist), config.filters + 1))
  mel[0], mel[-1] = config.min_hz, nyquist
  if config.scale == "mel":
    return mel
  return config.min_hz + nyquist - mel[::-1]


def initial_bands(config: SincConfig) -> tuple[np.ndarray, np.ndarray]:
  """(low_hz, high_hz), each (F,): filter i spans [e_i, e_{i+1}]."""
  edges = band_edges(config)
  return edges[:-1], edges[1:]


def hamming(length: int):
  m = jnp.arange(length, dtype=jnp.float32)
  return 0.54 - 0.46 * jnp.cos(2 * jnp.pi * m / (length - 1))


def sinc_filters(low_hz, high_hz, kernel_size: int, sample_rate: int = SAMPLE_RATE) -> jax.Array:
  """(K, F) windowed band-pass filters g_i (module docstring), differentiable in the edges."""
  n = jnp.arange(kernel_size, dtype=jnp.float32) - (kernel_size - 1) / 2
  low = jnp.asarray(low_hz, jnp.float32)[None, :] / sample_rate
  high = jnp.asarray(high_hz, jnp.float32)[None, :] / sample_rate
  taps = n[:, None]
  ideal = 2 * high * jnp.sinc(2 * high * taps) - 2 * low * jnp.sinc(2 * low * taps)
  return ideal * hamming(kernel_size)[:, None]


def sinc_features(audio: jax.Array, low_hz, high_hz, config: SincConfig) -> jax.Array:
  """(B, N) waveforms → (B, F, T', 1): |conv| → max pool → log (module docstring)."""
  if audio.ndim != 2:
    raise ValueError(f"sinc_features expects waveforms (B, num_samples), got {audio.shape}")
  kernel = sinc_filters(low_hz, high_hz, config.kernel_size, config.sample_rate)
  half = (config.kernel_size - 1) // 2
  filtered = lax.conv_general_dilated(
    audio.astype(jnp.float32)[:, :, None],
    kernel[:, None, :],
    (config.stride,),
    [(half, half)],
    dimension_numbers=("NWC", "WIO", "NWC"),
  )
  if config.pool > 1:
    filtered = lax.reduce_window(
      jnp.abs(filtered), -jnp.inf, lax.max, (1, config.pool, 1), (1, config.pool, 1), "VALID"
    )
  else:
    filtered = jnp.abs(filtered)
  return jnp.log(filtered + LOG_FLOOR).transpose(0, 2, 1)[..., None]


def fixed_features(audio: jax.Array, config: SincConfig) -> jax.Array:
  """`sinc_features` with the initial (untrained) bands: the front end of a search step."""
  low, high = initial_bands(config)
  return sinc_features(audio, low, high, config)


def feature_shape(num_samples: int, config: SincConfig) -> tuple[int, int, int]:
  """(F, T', 1) of one `num_samples`-long waveform."""
  shape = jax.eval_shape(
    lambda a: fixed_features(a, config), jax.ShapeDtypeStruct((1, num_samples), jnp.float32)
  )
  return tuple(shape.shape[1:])


def config_from(fields) -> SincConfig:
  """A SincConfig from a mapping of some of its fields (a config's `sinc` block)."""
  fields = dict(fields or {})
  known = {f.name for f in dataclasses.fields(SincConfig)}
  unknown = sorted(set(fields) - known)
  if unknown:
    raise ValueError(
      f"unknown sinc field(s) {', '.join(unknown)}; fields: {', '.join(sorted(known))}"
    )
  return SincConfig(**fields)
