"""The LFCC-LCNN countermeasure of the ASVspoof 2021 baselines (Wang & Yamagishi, "A comparative
study on recent neural spoofing countermeasures for synthetic speech detection", Interspeech
2021; the LA/DF baseline "LFCC-LCNN").

Input: the LFCC as the speech networks see it, (B, F, T, 1) with F = 60 coefficients (20 static
+ Δ + ΔΔ) and T frames (`audio.features`). The light CNN: nine convolutions, each followed by a
max-feature-map (MFM: the element-wise max of the two channel halves, halving the channels),

    conv 5×5 → 64, MFM, max pool 2
    conv 1×1 → 64, MFM, BN;  conv 3×3 → 96, MFM, max pool 2, BN
    conv 1×1 → 96, MFM, BN;  conv 3×3 → 128, MFM, max pool 2
    conv 1×1 → 128, MFM, BN; conv 3×3 → 64, MFM, BN
    conv 1×1 → 64, MFM, BN;  conv 3×3 → 64, MFM, max pool 2, dropout 0.7

(convolutions with bias, 'same' padding; BN without affine parameters; pools 2×2 stride 2,
floor), giving (B, F/16, T/16, 32); each frame's 32·⌊F/16⌋ values (96 for F = 60) go through two
bidirectional LSTM layers of that width (half per direction), the LSTM output plus its input is
averaged over time, and a dense layer gives the logits. The baseline has one output (a sigmoid
of the bona fide probability); here `num_classes` logits with class 1 = fake (one logit: the
fake logit), as every detector of `models/factory.py`. The LSTM keeps PyTorch's parameters
(W_ih, W_hh and two biases per direction), so the count matches the PyTorch baseline's:
269,729 with one output at F = 60.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

from fakenas_jax.nn import batch_norm, conv, pooling

# (kernel, output channels before MFM, max pool after, BN after) of the nine convolutions.
LAYERS = (
  (5, 64, True, False),
  (1, 64, False, True),
  (3, 96, True, True),
  (1, 96, False, True),
  (3, 128, True, False),
  (1, 128, False, True),
  (3, 64, False, True),
  (1, 64, False, True),
  (3, 64, True, False),
)


def max_feature_map(x: jax.Array) -> jax.Array:
  """MFM over the channel axis: max of the first and second half of the channels."""
  first, second = jnp.split(x, 2, axis=-1)
  return jnp.maximum(first, second)


def max_pool_2x2(x: jax.Array) -> jax.Array:
  """``MaxPool2d(2, 2)`` on NHWC (no padding; odd sizes floored), as `pooling.max_pool`'s
  shifted slices (a cheaper gradient on XLA:CPU than reduce-window's select-and-scatter)."""
  return pooling.max_pool(x, window=2, stride=2, pad=((0, 0), (0, 0)))


class LSTM(nn.Module):
  """One direction of a PyTorch ``nn.LSTM`` layer over (B, T, D) → (B, T, hidden)."""

  hidden: int
  reverse: bool = False

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    init = nn.initializers.uniform(scale=2.0 / self.hidden**0.5)
    shift = lambda f: lambda key, shape: f(key, shape) - 1.0 / self.hidden**0.5
    w_ih = self.param("w_ih", shift(init), (x.shape[-1], 4 * self.hidden))
    w_hh = self.param("w_hh", shift(init), (self.hidden, 4 * self.hidden))
    b_ih = self.param("b_ih", shift(init), (4 * self.hidden,))
    b_hh = self.param("b_hh", shift(init), (4 * self.hidden,))
    inputs = jnp.einsum("btd,dg->tbg", x, w_ih) + b_ih + b_hh

    def step(carry, gates_in):
      h, c = carry
      gates = gates_in + h @ w_hh
      i, f, g, o = jnp.split(gates, 4, axis=-1)  # PyTorch's gate order
      c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
      h = jax.nn.sigmoid(o) * jnp.tanh(c)
      return (h, c), h

    zeros = jnp.zeros((x.shape[0], self.hidden), inputs.dtype)
    _, outputs = lax.scan(step, (zeros, zeros), inputs, reverse=self.reverse)
    return jnp.transpose(outputs, (1, 0, 2))


class BLSTM(nn.Module):
  """Bidirectional LSTM layer, ``features`` wide (half per direction, concatenated)."""

  features: int

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    if self.features % 2:
      raise ValueError(f"a BLSTM layer needs an even width, got {self.features}")
    return jnp.concatenate(
      [
        LSTM(self.features // 2, name="forward")(x),
        LSTM(self.features // 2, reverse=True, name="backward")(x),
      ],
      -1,
    )


class LCNN(nn.Module):
  """LFCC-LCNN (module docstring): (B, F, T, 1) → {'logits': [B, num_classes]}."""

  num_classes: int = 1
  dropout_rate: float = 0.7

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> dict[str, jax.Array]:
    if x.ndim != 4 or x.shape[1] < 16 or x.shape[2] < 16:
      raise ValueError(f"LCNN takes (batch, features ≥ 16, frames ≥ 16, channels), got {x.shape}")
    for index, (kernel, features, pool, norm) in enumerate(LAYERS):
      x = conv.Conv2D(features, kernel, name=f"conv{index}")(x)
      x = max_feature_map(x + self.param(f"bias{index}", nn.initializers.zeros, (features,)))
      if pool:
        x = max_pool_2x2(x)
      if norm:
        x = batch_norm.BatchNorm(affine=False, name=f"bn{index}")(x, train)
    x = nn.Dropout(self.dropout_rate, deterministic=not train)(x)
    batch, height, frames, channels = x.shape
    # (B, F', T', C) → (B, T', C·F'), channel-major per frame as the baseline's view.
    x = jnp.transpose(x, (0, 2, 3, 1)).reshape(batch, frames, channels * height)
    hidden = BLSTM(x.shape[-1], name="blstm1")(x)
    hidden = BLSTM(x.shape[-1], name="blstm2")(hidden)
    pooled = jnp.mean(hidden + x, axis=1)
    return {"logits": nn.Dense(self.num_classes, name="output")(pooled)}
