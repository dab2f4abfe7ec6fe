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

from fakenas_jax.nn import losses as nn_losses


@flax.struct.dataclass
class SearchInputs:
  active: jax.Array  # (2, 14, ops) bool
  estimation: jax.Array  # (2, 14, ops) float; E of Eq. 4 (zeros until first estimated)
  use_estimation: jax.Array  # () bool: I = softmax(α) + λE when True, softmax(α) otherwise


def classification_loss(logits, labels, class_weights=None):
  """Mean (optionally class-weighted) cross-entropy and accuracy."""
  loss = nn_losses.cross_entropy(logits, labels, class_weights)
  accuracy = (jnp.argmax(logits, -1) == labels).mean()
  return loss, accuracy


def make_loss_fn(network, inputs: SearchInputs, class_weights=None):
  """loss_fn(params, arch, batch_stats, batch, rng) for `bilevel` steps."""

  def loss_fn(params, arch, batch_stats, batch, rng) -> tuple[jax.Array, tuple[Any, dict]]:
    del rng
    estimation = jnp.where(inputs.use_estimation, inputs.estimation, 0.0)
    logits, updates = network.apply(
      {"params": params, "arch": arch, "batch_stats": batch_stats},
      batch["image"],
      train=True,
      active=inputs.active,
      estimation_scores=estimation,
      mutable=["batch_stats"],
    )
    loss, accuracy = classification_loss(logits, batch["label"], class_weights)
    return loss, (updates["batch_stats"], {"accuracy": accuracy})

  return loss_fn


def override_errors(network, variables, inputs: SearchInputs, batch, *, chunk: int = 8):
  """Cross-entropy of the supernet with each (cell type, edge) reduced to each single operation.

  Returns (2, 14, ops): entry (t, e, o) is the loss on `batch` when edge e of every cell of type
  t mixes operation o alone (weight 1; the edge normalisation β still applies), everything else
  unchanged; NaN where o is pruned from the edge (`inputs.active`; Eq. 4 gives it E = 0).
  Batch statistics normalise (as in the search steps); running averages are not touched.

  Per cell type, the stem and the cells before the first cell of that type do not depend on
  the override: they run once (`stop_cell`) and the overrides start from their states
  (`start_cell`). The active (edge, operation) pairs come first and are evaluated `chunk` at a
  time, vmapped (one `lax.map` step per chunk); a chunk of pruned pairs only is skipped.
  """
  types, edges, n_ops = inputs.active.shape
  estimation = jnp.where(inputs.use_estimation, inputs.estimation, 0.0)
  layout = getattr(network, "layout", None)
  label = batch["label"]

  def apply(x, **kwargs):
    out, _ = network.apply(
      variables,
      x,
      train=True,
      active=inputs.active,
      estimation_scores=estimation,
      mutable=["batch_stats"],
      **kwargs,
    )
    return out

  pairs = edges * n_ops
  chunks = -(-pairs // chunk)
  e_of, o_of = jnp.arange(pairs) // n_ops, jnp.arange(pairs) % n_ops
  rows = []
  for t in range(types):
    active = inputs.active[t].reshape(pairs)
    first = 0 if layout is None else layout.find("NR"[t])
    if first < 0:  # no cell of this type: every override leaves the network as it is
      loss = classification_loss(apply(batch["image"]), label)[0]
      rows.append(jnp.where(active, loss, jnp.nan).reshape(edges, n_ops))
      continue
    states = apply(batch["image"], stop_cell=first) if first else batch["image"]
    start = {"start_cell": first} if first else {}
    order = jnp.argsort(~active, stable=True)  # active pairs first
    order = jnp.concatenate([order, jnp.full((chunks * chunk - pairs,), pairs)])
    valid = jnp.concatenate([active, jnp.zeros((1,), bool)])[order]

    def one(index, t=t, states=states, start=start):
      mask = jnp.zeros((types, edges), bool).at[t, e_of[index % pairs]].set(True)
      weights = jnp.broadcast_to(jax.nn.one_hot(o_of[index % pairs], n_ops), (types, edges, n_ops))
      logits = apply(states, override_weights=weights, override_mask=mask, **start)
      return classification_loss(logits, label)[0]

    def run_chunk(args, one=one):
      indices, ok = args
      return jax.lax.cond(
        ok.any(),
        lambda: jax.vmap(one)(indices),
        lambda: jnp.full(indices.shape, jnp.nan, jnp.float32),
      )

    losses = jax.lax.map(run_chunk, (order.reshape(chunks, chunk), valid.reshape(chunks, chunk)))
    losses = jnp.where(valid, losses.reshape(-1), jnp.nan)
    row = jnp.full((pairs,), jnp.nan).at[order].set(losses, mode="drop")
    rows.append(row.reshape(edges, n_ops))
  return jnp.stack(rows)
