"""Guards against the collapse of differentiable search onto parameter-free operations.

DARTS' bilevel search drifts towards skip connections and pools as it trains longer (P-DARTS
§3.3, DARTS+ §3, RobustDARTS §4). Three guards, each a config option of `config.guards`:

* `cap_skips` — P-DARTS §3.3 ("search space regularization"): the normal cell keeps at most
  `max_skips` (P-DARTS: 2) skip connections; while there are more, the skip with the lowest
  score on its edge is replaced by the best other operation of that edge (not `none`, not
  pruned). Applied to the derived genotype.
* `early_stop_reason` — DARTS+ §3.2: stop searching when the architecture stops changing or
  starts to collapse, read here as a pure rule on the per-epoch number of parameter-free
  operations of the derived normal cell: it grew since the previous epoch, or it stayed the
  same for `patience` epochs in a row.
* `dominant_eigenvalue` — RobustDARTS §4.2: the largest eigenvalue of ∇²_α L_val, whose growth
  comes with the drop of the discretised architecture's accuracy; computed by power iteration
  on Hessian-vector products (`jax.jvp` of `jax.grad`), never forming the Hessian.
"""

from __future__ import annotations

from typing import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from fakenas_jax.nn import genotypes, registry

SKIP = "skip_connect"
PARAMETER_FREE_KINDS = ("none", "skip_connect", "max_pool", "avg_pool")


def is_parameter_free(op_name: str) -> bool:
  """Whether an operation has no weights (a skip on a normal edge, a pool, `none`)."""
  return registry.parse_op_name(op_name).kind in PARAMETER_FREE_KINDS


def parameter_free_count(pairs: Sequence[tuple[str, int]]) -> int:
  return sum(is_parameter_free(op) for op, _ in pairs)


def cap_skips(
  pairs: Sequence[tuple[str, int]], scores: np.ndarray, op_names: Sequence[str], max_skips: int
) -> tuple[tuple[tuple[str, int], ...], list[dict]]:
  """P-DARTS' cap on the skips of a derived (normal) cell.

  pairs: the cell's (operation, input) pairs, two per node; scores: (edges, ops) the scores it
  was derived from (-inf = pruned). Returns the new pairs and one record per replacement
  ({'node', 'input', 'score', 'replaced_by'}).
  """
  if max_skips < 0:
    raise ValueError(f"max_skips must be >= 0, got {max_skips}")
  scores = np.asarray(scores, np.float64)
  op_names = list(op_names)
  if SKIP not in op_names:
    return tuple(pairs), []
  skip = op_names.index(SKIP)
  pairs = [tuple(p) for p in pairs]
  replaced = []
  while True:
    skips = [
      (scores[genotypes.edge_index(position // 2, source), skip], position)
      for position, (op, source) in enumerate(pairs)
      if op == SKIP
    ]
    if len(skips) <= max_skips:
      break
    candidates = []
    for score, position in skips:
      row = scores[genotypes.edge_index(position // 2, pairs[position][1])]
      others = [
        o for o, name in enumerate(op_names) if name not in ("none", SKIP) and np.isfinite(row[o])
      ]
      if others:
        candidates.append((score, position, max(others, key=lambda o: row[o])))
    if not candidates:
      break  # no edge has another operation left: keep the skips
    score, position, best = min(candidates)
    node, source = position // 2, pairs[position][1]
    pairs[position] = (op_names[best], source)
    replaced.append(
      {"node": node, "input": source, "score": float(score), "replaced_by": op_names[best]}
    )
  return tuple(pairs), replaced


def early_stop_reason(counts: Sequence[int], patience: int) -> str | None:
  """DARTS+ stop rule on the per-epoch parameter-free counts; None = go on."""
  if patience < 1:
    raise ValueError(f"early-stop patience must be >= 1, got {patience}")
  counts = list(counts)
  if len(counts) >= 2 and counts[-1] > counts[-2]:
    return f"parameter-free operations in the normal cell grew from {counts[-2]} to {counts[-1]}"
  if len(counts) > patience and len(set(counts[-patience - 1 :])) == 1:
    return (
      f"parameter-free operations in the normal cell unchanged ({counts[-1]}) for {patience} epochs"
    )
  return None


def hessian_vector_product(
  f: Callable[[jax.Array], jax.Array], x: jax.Array, v: jax.Array
) -> jax.Array:
  """∇²f(x) · v by forward-over-reverse differentiation."""
  return jax.jvp(jax.grad(f), (x,), (v,))[1]


def dominant_eigenvalue(
  f: Callable[[jax.Array], jax.Array], x: jax.Array, key: jax.Array, iterations: int = 20
) -> jax.Array:
  """The eigenvalue of largest magnitude of ∇²f(x), by `iterations` steps of power iteration
  (the Rayleigh quotient of the last iterate)."""
  v = jax.random.normal(key, x.shape, x.dtype)
  v = v / jnp.linalg.norm(v)

  def body(_, carry):
    v, _ = carry
    w = hessian_vector_product(f, x, v)
    eigenvalue = jnp.vdot(v, w)
    return w / jnp.maximum(jnp.linalg.norm(w), 1e-30), eigenvalue

  _, eigenvalue = jax.lax.fori_loop(0, iterations, body, (v, jnp.zeros((), x.dtype)))
  return eigenvalue
