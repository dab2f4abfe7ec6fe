"""The classification loss every network is trained with, the supernet's and the detectors'."""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import optax


def cross_entropy(
  logits: jax.Array, labels: jax.Array, class_weights: Sequence[float] | jax.Array | None = None
) -> jax.Array:
  """Mean cross-entropy; with `class_weights` w: Σ_i w_{y_i} ℓ_i / Σ_i w_{y_i}.

  Logits [B, C]: softmax cross-entropy. Logits [B, 1] (one fake logit): the binary
  cross-entropy of σ(logit), BiG-Arts Eq. 5 (class weights then still number two: real, fake).
  """
  logits = logits.astype(jnp.float32)
  if logits.shape[-1] == 1:
    losses = optax.sigmoid_binary_cross_entropy(logits[:, 0], labels.astype(jnp.float32))
  else:
    losses = optax.softmax_cross_entropy_with_integer_labels(logits, labels)
  if class_weights is None or len(class_weights) == 0:
    return losses.mean()
  weights = jnp.asarray(class_weights, jnp.float32)
  classes = max(2, logits.shape[-1])
  if weights.shape != (classes,):
    raise ValueError(
      f"class_weights needs one weight per class ({classes}), got {tuple(weights.shape)}"
    )
  per_example = weights[labels]
  return (losses * per_example).sum() / per_example.sum()
