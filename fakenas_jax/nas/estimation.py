"""The generalisation-aware performance-estimation indicator of FD-NAS (§3.4, Eq. 4, 5, 8).

For every edge (i, j) and operation o the search measures two errors of the supernet in which
that edge's mixed operation is replaced by o alone: Ē on search batches and Ê on estimation
(held-out) batches. Each is a vector with one entry per batch of the epoch (the batches are
paired: entry b of Ē and of Ê come from the b-th search and b-th estimation batch), and

  ‖Ē − Ê‖_{−∞} = min_b |Ē_b − Ê_b|                      (the negative-infinity norm)
  E^o = softmax_o( 1 / (‖Ē^o − Ê^o‖_{−∞} + ε) )          (Eq. 4)
  I^o = softmax_o(α^o) + λ · E^o,  λ = 0.15              (Eq. 5)
  H^o_{i,j} = softmax_{i'<j}(β_{i',j})_i · I^o_{i,j}      (Eq. 8)

ε (1e-3 by default) keeps Eq. 4 finite when the two errors coincide. Gaps are cross-entropy
differences of order 0.01–0.3, so 1/(gap + ε) spans 3–100 and Eq. 4's E is nearly one-hot
(WORKSPACE.md, "Does the search beat chance?"). `form='standardised_gap'` is a measured
deviation from the paper that makes E rank instead of pick: E^o = softmax_o(−z^o), z the gap
standardised over the edge's active operations (zero mean, unit standard deviation). Operations pruned from an
edge take no part: they get E = 0, softmax(α) = 0 and H = −∞. E carries no gradient (Eq. 6 uses
I as mixing weights, and only α is trained).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

LAMBDA = 0.15
EPSILON = 1e-3
FORMS = ("inverse_gap", "standardised_gap")


def negative_infinity_norm(x: jax.Array, axis: int = -1) -> jax.Array:
  """‖x‖_{−∞}: the smallest absolute value along `axis`."""
  return jnp.min(jnp.abs(x), axis=axis)


def masked_softmax(logits: jax.Array, active: jax.Array | None) -> jax.Array:
  """Softmax over the last axis, with inactive entries at exactly zero."""
  if active is None:
    return jax.nn.softmax(logits, axis=-1)
  logits = jnp.where(active, logits, -jnp.inf)
  return jnp.where(active, jax.nn.softmax(logits, axis=-1), 0.0)


def estimation_scores(
  search_errors: jax.Array,
  estimation_errors: jax.Array,
  active: jax.Array | None = None,
  epsilon: float = EPSILON,
  form: str = "inverse_gap",
) -> jax.Array:
  """E of Eq. 4 (`form='inverse_gap'`) or of the standardised gap. Errors: (..., ops,
  batches); returns (..., ops)."""
  gap = negative_infinity_norm(search_errors - estimation_errors, axis=-1)
  if form == "inverse_gap":
    return masked_softmax(1.0 / (gap + epsilon), active)
  if form != "standardised_gap":
    raise ValueError(f"estimation form {form!r}: expected one of {FORMS}")
  return masked_softmax(-standardise(gap, active), active)


def standardise(x: jax.Array, active: jax.Array | None, floor: float = 1e-4) -> jax.Array:
  """(x − mean) / max(std, floor) over the last axis's active entries (population std).

  The floor (in the errors' units, nats) keeps rounding noise between equal gaps from being
  blown up to unit spread."""
  mask = jnp.ones_like(x, bool) if active is None else active
  count = jnp.maximum(mask.sum(-1, keepdims=True), 1)
  mean = jnp.where(mask, x, 0.0).sum(-1, keepdims=True) / count
  centred = jnp.where(mask, x - mean, 0.0)
  std = jnp.sqrt((centred**2).sum(-1, keepdims=True) / count)
  return centred / jnp.maximum(std, floor)


def indicator(
  alpha: jax.Array,
  estimation: jax.Array | None,
  active: jax.Array | None = None,
  lam: float = LAMBDA,
) -> jax.Array:
  """I of Eq. 5 — the operation weights of the mixed operation (Eq. 6); E is not differentiated.

  With `estimation=None` (the indicator switched off) this is plain softmax(α).
  """
  weights = masked_softmax(alpha, active)
  if estimation is None:
    return weights
  return weights + lam * jax.lax.stop_gradient(estimation)


def node_edge_weights(beta: jax.Array, steps: int = 4) -> jax.Array:
  """Edge normalisation (Eq. 7): softmax of β over the incoming edges of each node. (edges,)."""
  weights, start = [], 0
  for node in range(steps):
    count = 2 + node
    weights.append(jax.nn.softmax(beta[start : start + count]))
    start += count
  return jnp.concatenate(weights)


def importance(
  alpha: jax.Array,
  beta: jax.Array,
  estimation: jax.Array | None,
  active: jax.Array | None = None,
  lam: float = LAMBDA,
  steps: int = 4,
) -> jax.Array:
  """H of Eq. 8, (edges, ops); pruned operations get −∞."""
  h = node_edge_weights(beta, steps)[:, None] * indicator(alpha, estimation, active, lam)
  return h if active is None else jnp.where(active, h, -jnp.inf)
