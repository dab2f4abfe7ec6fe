"""Guards against the collapse of differentiable search onto parameter-free operations.

DARTS' bilevel search drifts towards skip connections and pools as it trains longer (P-DARTS
§3.3, DARTS+ §3, RobustDARTS §4). Three guards, each a config option of `config.guards`:

* `cap_skips` — P-DARTS §3.3 ("search space regularization"): the normal cell keeps at most
  `max_skips` (P-DARTS: 2) skip connections; while there are more, the skip with the lowest
  score on its edge is replaced by the best other operation of that edge (not `none`, not
  pruned). Applied to the derived genotype. `cap_parameter_free` is the same rule over all
  parameter-free operations (skips and pools; `max_parameter_free`): capping skips alone moves
  the collapse to pools (WORKSPACE.md, "Does the search beat chance?").
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


def cap_operations(
  pairs: Sequence[tuple[str, int]],
  scores: np.ndarray,
  op_names: Sequence[str],
  limit: int,
  capped: Sequence[str],
) -> tuple[tuple[tuple[str, int], ...], list[dict]]:
  """At most `limit` of the operations `capped` in a derived (normal) cell (P-DARTS §3.3).

  pairs: the cell's (operation, input) pairs, two per node; scores: (edges, ops) the scores it
  was derived from (-inf = pruned). While there are more, the capped operation with the lowest
  score on its edge becomes the best operation of that edge that is neither capped nor `none`
  nor pruned (an edge without one keeps its operation). Returns the new pairs and one record
  per replacement ({'node', 'input', 'replaced', 'score', 'replaced_by'}), weakest first.
  """
  if limit < 0:
    raise ValueError(f"the cap must be >= 0, got {limit}")
  scores = np.asarray(scores, np.float64)
  op_names, capped = list(op_names), set(capped)
  pairs = [tuple(p) for p in pairs]
  replaced = []
  while True:
    held = [position for position, (op, _) in enumerate(pairs) if op in capped]
    if len(held) <= limit:
      break
    candidates = []
    for position in held:
      op, source = pairs[position]
      row = scores[genotypes.edge_index(position // 2, source)]
      others = [
        o
        for o, name in enumerate(op_names)
        if name not in capped and name != "none" and np.isfinite(row[o])
      ]
      if others:
        best = max(others, key=lambda o: row[o])
        candidates.append((row[op_names.index(op)], position, best))
    if not candidates:
      break  # no capped edge has another operation left: keep them
    score, position, best = min(candidates)
    op, source = pairs[position]
    pairs[position] = (op_names[best], source)
    replaced.append(
      {
        "node": position // 2,
        "input": source,
        "replaced": op,
        "score": float(score),
        "replaced_by": op_names[best],
      }
    )
  return tuple(pairs), replaced


def cap_skips(
  pairs: Sequence[tuple[str, int]], scores: np.ndarray, op_names: Sequence[str], max_skips: int
) -> tuple[tuple[tuple[str, int], ...], list[dict]]:
  """P-DARTS' cap: at most `max_skips` skip connections (`cap_operations`)."""
  if max_skips < 0:
    raise ValueError(f"max_skips must be >= 0, got {max_skips}")
  return cap_operations(pairs, scores, op_names, max_skips, [SKIP])


def cap_parameter_free(
  pairs: Sequence[tuple[str, int]],
  scores: np.ndarray,
  op_names: Sequence[str],
  max_parameter_free: int,
) -> tuple[tuple[tuple[str, int], ...], list[dict]]:
  """At most `max_parameter_free` skips and pools together (`cap_operations`)."""
  if max_parameter_free < 0:
    raise ValueError(f"max_parameter_free must be >= 0, got {max_parameter_free}")
  free = [name for name in op_names if is_parameter_free(name)]
  return cap_operations(pairs, scores, op_names, max_parameter_free, free)


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
