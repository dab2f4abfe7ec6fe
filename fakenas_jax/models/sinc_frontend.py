"""A network on the raw waveform: the sinc-filter front end (`audio.sinc`) before any backbone.

    model = WithSincFrontend(backbone=lcnn.LCNN(), config=sinc.SincConfig(scale='inverse_mel'))
    outputs = model.apply(variables, waveforms, train=False)     # (B, N) → backbone's outputs

With `config.learnable` the band edges are parameters (`params/sinc/{low_hz,band_hz}`, SincNet's
parametrisation: f1 = |low_hz|, f2 = min(f1 + min_band_hz + |band_hz|, Nyquist), initialised so
that (f1, f2) are the initial bands exactly); otherwise the initial bands are constants. The
backbone takes the (B, F, T', 1) map as it takes the LFCC image, and every other call argument
(`drop_path_prob`, …) is passed on to it.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from fakenas_jax.audio import sinc


class SincFrontend(nn.Module):
  """(B, N) → (B, F, T', 1) sinc features, learnable or fixed band edges."""

  config: sinc.SincConfig

  def bands(self) -> tuple[jax.Array, jax.Array]:
    low, high = sinc.initial_bands(self.config)
    if not self.config.learnable:
      return jnp.asarray(low, jnp.float32), jnp.asarray(high, jnp.float32)
    band = np.maximum(high - low - self.config.min_band_hz, 0.0)
    low_param = self.param("low_hz", lambda _: jnp.asarray(low, jnp.float32))
    band_param = self.param("band_hz", lambda _: jnp.asarray(band, jnp.float32))
    f1 = jnp.abs(low_param)
    f2 = jnp.minimum(
      f1 + self.config.min_band_hz + jnp.abs(band_param), self.config.sample_rate / 2
    )
    return f1, f2

  @nn.compact
  def __call__(self, waveforms: jax.Array) -> jax.Array:
    low, high = self.bands()
    return sinc.sinc_features(waveforms, low, high, self.config)


class WithSincFrontend(nn.Module):
  """`backbone` on the sinc features of the waveform (module docstring)."""

  backbone: nn.Module
  config: sinc.SincConfig

  @property
  def takes_drop_path(self) -> bool:  # `**kwargs` passes drop_path_prob on to the backbone
    return bool(getattr(self.backbone, "takes_drop_path", False))

  @nn.compact
  def __call__(self, waveforms: jax.Array, train: bool = False, **kwargs: Any):
    if waveforms.ndim != 2:
      raise ValueError(
        f"a sinc-front-end network takes waveforms (B, num_samples), got {waveforms.shape}"
      )
    features = SincFrontend(self.config, name="sinc")(waveforms)
    return self.backbone(features, train=train, **kwargs)
