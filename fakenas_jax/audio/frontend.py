"""What a speech network sees: LFCC of a fixed-length batch, optionally masked, as NHWC.

    images = features(batch["audio"])                        # (B, 64000) -> (B, 60, 251, 1)
    images = features(batch["audio"], key=key, mask=True)    # training with frequency masking

Runs inside the jitted step on the device (`mask` is a Python bool, static under `jax.jit`).
Height = the 60 coefficients [c; Δ; ΔΔ], width = the T frames, one channel: the NHWC form of
the reference's (B, 1, 60, T).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from fakenas_jax.audio import lfcc as lfcc_lib
from fakenas_jax.audio import masking


def features(
  audio: jax.Array,
  key: jax.Array | None = None,
  mask: bool = False,
  *,
  config: lfcc_lib.LFCCConfig = lfcc_lib.DEFAULT_CONFIG,
  max_mask_width: int = masking.MAX_MASK_WIDTH,
  per_example_mask: bool = False,
) -> jax.Array:
  """(B, N) float waveforms -> (B, F, T, 1) float32 LFCC (F = 60 by default).

  With `mask`, a frequency mask (`masking.frequency_mask`, one band for the whole batch as
  the reference, or one per example) drawn from `key` is applied to the F rows.
  """
  if audio.ndim != 2:
    raise ValueError(f"features expects a batch of waveforms (B, num_samples), got {audio.shape}")
  coefficients = lfcc_lib.lfcc(audio, config)
  if mask:
    if key is None:
      raise ValueError("features(mask=True) needs a PRNG key")
    coefficients = masking.frequency_mask(
      coefficients, key, max_width=max_mask_width, axis=1, per_example=per_example_mask
    )
  return coefficients[..., None]


def feature_shape(num_samples: int) -> tuple[int, int, int]:
  """(60, T, 1): the LFCC image of one `num_samples`-long waveform (T = 251 for 4 s)."""
  shape = jax.eval_shape(features, jax.ShapeDtypeStruct((1, num_samples), jnp.float32))
  return tuple(shape.shape[1:])
