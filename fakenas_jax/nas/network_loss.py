"""The supernet's loss for the bilevel steps, and its error under operation overrides.

`SearchInputs` are the arrays that steer the supernet without being trained — the surviving
operations (`active`) and the estimation scores E of FD-NAS Eq. 4 — passed as arguments of the
compiled steps, so pruning and new scores change values, not the compiled program.
"""
from __future__ import annotations

from typing import Any

import flax
import jax
import jax.numpy as jnp
import optax


@flax.struct.dataclass
class SearchInputs:
  active: jax.Array  # (2, 14, ops) bool
  estimation: jax.Array  # (2, 14, ops) float; E of Eq. 4 (zeros until first estimated)
  use_estimation: jax.Array  # () bool: I = softmax(α) + λE when True, softmax(α) otherwise


def classification_loss(logits, labels, class_weights=None):
  """Mean (optionally class-weighted) cross-entropy and accuracy."""
  losses = optax.softmax_cross_entropy_with_integer_labels(logits, labels)
  if class_weights is None:
    loss = losses.mean()
  else:
    weights = jnp.asarray(class_weights, logits.dtype)[labels]
    loss = (losses * weights).sum() / weights.sum()
  accuracy = (jnp.argmax(logits, -1) == labels).mean()
  return loss, accuracy


def make_loss_fn(network, inputs: SearchInputs, class_weights=None):
  """loss_fn(params, arch, batch_stats, batch, rng) for `bilevel` steps."""
  def loss_fn(params, arch, batch_stats, batch, rng) -> tuple[jax.Array, tuple[Any, dict]]:
    del rng
    estimation = jnp.where(inputs.use_estimation, inputs.estimation, 0.0)
    logits, updates = network.apply(
        {"params": params, "arch": arch, "batch_stats": batch_stats}, batch["image"], train=True,
        active=inputs.active, estimation_scores=estimation, mutable=["batch_stats"])
    loss, accuracy = classification_loss(logits, batch["label"], class_weights)
    return loss, (updates["batch_stats"], {"accuracy": accuracy})
  return loss_fn


def override_errors(network, variables, inputs: SearchInputs, batch, *, chunk: int = 8):
  """Cross-entropy of the supernet with each (cell type, edge) reduced to each single operation.

  Returns (2, 14, ops): entry (t, e, o) is the loss on `batch` when edge e of every cell of type
  t mixes operation o alone (weight 1; the edge normalisation β still applies), everything else
  unchanged. Batch statistics normalise (as in the search steps); running averages are not
  touched. Computed as one `lax.map` over the 2·14·ops one-hot overrides, `chunk` at a time.
  """
  types, edges, n_ops = inputs.active.shape
  estimation = jnp.where(inputs.use_estimation, inputs.estimation, 0.0)
  t, e, o = jnp.meshgrid(jnp.arange(types), jnp.arange(edges), jnp.arange(n_ops), indexing="ij")
  t, e, o = t.ravel(), e.ravel(), o.ravel()

  def one(index):
    mask = (jnp.arange(types)[:, None] == t[index]) & (jnp.arange(edges)[None, :] == e[index])
    weights = jnp.broadcast_to(jax.nn.one_hot(o[index], n_ops), (types, edges, n_ops))
    logits, _ = network.apply(variables, batch["image"], train=True, active=inputs.active,
                              estimation_scores=estimation, override_weights=weights,
                              override_mask=mask, mutable=["batch_stats"])
    return classification_loss(logits, batch["label"])[0]

  losses = jax.lax.map(one, jnp.arange(types * edges * n_ops), batch_size=chunk)
  return losses.reshape(types, edges, n_ops)
