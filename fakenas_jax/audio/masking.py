"""Frequency masking (SpecAugment) of LFCC features, with torchaudio's `FrequencyMasking` rule.

The PC-DARTS spoofing code trains with `--mask`: torchaudio's `FrequencyMasking(14)` on the batch
of (B, 60, T) features. torchaudio draws u, v ~ U[0, 1), a width w = u · W (W = 14) and a start
s = v · (F − w) (F = 60 rows), and fills the rows floor(s) ≤ f < floor(s) + floor(w) with 0 —
so 0 to W − 1 rows. Without `iid_masks` one mask covers the whole batch; `per_example=True` draws
one for every example (torchaudio's `iid_masks`). The draws come from a JAX PRNG key: the same
distribution as torchaudio, not the same random numbers.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

MAX_MASK_WIDTH = 14  # num_filters // 5 in the reference (70 // 5)


def frequency_mask(
  features: jax.Array,
  key: jax.Array,
  *,
  max_width: int = MAX_MASK_WIDTH,
  axis: int = -2,
  per_example: bool = False,
  fill: float = 0.0,
) -> jax.Array:
  """`features` with a band of rows along `axis` set to `fill` (see the module docstring).

  Args:
    features: e.g. (B, 60, T) from `lfcc`, or (B, 60, T, 1) with axis=1.
    key: a JAX PRNG key.
    max_width: W; the band has floor(u · W) rows, u ~ U[0, 1).
    axis: the feature (frequency) axis.
    per_example: one mask per index of the axes before `axis` (torchaudio's `iid_masks`);
      False: one mask for the whole array (torchaudio's default, the reference's use).
    fill: the value written into the band.
  """
  features = jnp.asarray(features)
  axis = axis % features.ndim if features.ndim else 0
  if features.ndim < 1:
    raise ValueError(f"frequency_mask needs an array with a feature axis, got {features.shape}")
  size = features.shape[axis]
  if not 0 <= max_width <= size:
    raise ValueError(f"max_width must be in [0, {size}] (rows on axis {axis}), got {max_width}")
  draws_shape = features.shape[:axis] if per_example else ()
  u_width, u_start = jax.random.uniform(key, (2,) + draws_shape)
  width = u_width * max_width
  start = jnp.floor(u_start * (size - width))
  stop = start + jnp.floor(width)
  rows = jnp.arange(size, dtype=width.dtype)
  # Broadcast the (per-example) bounds against the rows, then against the trailing axes.
  inside = (rows >= start[..., None]) & (rows < stop[..., None])
  inside = inside.reshape(inside.shape + (1,) * (features.ndim - axis - 1))
  return jnp.where(inside, jnp.asarray(fill, features.dtype), features)
