"""The speech front end: waveform helpers (host), LFCC and frequency masking (JAX, on device).

    from fakenas_jax import audio
    coefficients = audio.lfcc.lfcc(waveforms)                        # (B, N) -> (B, 60, T)
    images = audio.features(waveforms, key=key, mask=True)           # (B, 60, T, 1)

Modules: `waveform` (NumPy: PCM conversion, cut-or-repeat to 4 s), `lfcc` (the LFCC definition
of the PC-DARTS spoofing code), `masking` (torchaudio-style frequency masking), `frontend`
(`features`: what a network sees), `sinc` (the sinc-filter front end on the raw waveform). The package attribute `lfcc` is the module; the function is
`lfcc.lfcc`. The JAX modules load on first use, so host-side code (corpus builders) that needs
only `waveform` does not import JAX.
"""

import importlib

from fakenas_jax.audio.waveform import (
  FIXED_LENGTH,
  SAMPLE_RATE,
  fit_length,
  float_to_pcm16,
  pcm16_to_float,
)

_LAZY = {
  "features": ("fakenas_jax.audio.frontend", "features"),
  "feature_shape": ("fakenas_jax.audio.frontend", "feature_shape"),
  "LFCCConfig": ("fakenas_jax.audio.lfcc", "LFCCConfig"),
  "MAX_MASK_WIDTH": ("fakenas_jax.audio.masking", "MAX_MASK_WIDTH"),
  "frequency_mask": ("fakenas_jax.audio.masking", "frequency_mask"),
  "lfcc": ("fakenas_jax.audio.lfcc", None),
  "masking": ("fakenas_jax.audio.masking", None),
  "sinc": ("fakenas_jax.audio.sinc", None),
}

__all__ = [
  "FIXED_LENGTH",
  "SAMPLE_RATE",
  "fit_length",
  "float_to_pcm16",
  "pcm16_to_float",
  "waveform",
  *_LAZY,
]


def __getattr__(name):
  if name not in _LAZY:
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
  module_name, attribute = _LAZY[name]
  module = importlib.import_module(module_name)
  return module if attribute is None else getattr(module, attribute)
