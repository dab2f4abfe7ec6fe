"""Collapse guards: the skip cap on hand-made α, the DARTS+ rule on hand-made histories, the
dominant Hessian eigenvalue against a dense eigendecomposition."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from fakenas_jax.nas import collapse
from fakenas_jax.nn import genotypes

OPS = ("none", "max_pool_3x3", "skip_connect", "sep_conv_3x3", "dil_conv_3x3")


def _scores_with_skips(skip_strengths):
  """Scores where the derived normal cell holds a skip on edges given {edge: strength}."""
  scores = np.full((14, len(OPS)), 0.01)
  for edge in range(14):
    scores[edge, 3] = 0.3  # sep_conv everywhere, dil_conv a bit lower
    scores[edge, 4] = 0.2
  for edge, strength in skip_strengths.items():
    scores[edge, 2] = strength
  return scores


def test_the_weakest_skips_are_replaced_by_their_next_best_operation():
  # Node 0 takes inputs 0, 1 (edges 0, 1); node 1: two of edges 2..4; skips on four chosen edges.
  strengths = {0: 0.9, 1: 0.5, 2: 0.8, 3: 0.6}
  scores = _scores_with_skips(strengths)
  scores[1, 4] = 0.35  # edge 1's next best is dil_conv, not sep_conv
  pairs = genotypes.derive_cell(scores, OPS)
  assert [op for op, _ in pairs].count("skip_connect") == 4
  capped, replaced = collapse.cap_skips(pairs, scores, OPS, max_skips=2)
  assert [op for op, _ in capped].count("skip_connect") == 2
  assert [(r["node"], r["input"], r["replaced_by"]) for r in replaced] == [
    (0, 1, "dil_conv_3x3"),
    (1, 1, "sep_conv_3x3"),
  ]  # strengths 0.5 then 0.6
  assert capped[0] == ("skip_connect", 0) and capped[1] == ("dil_conv_3x3", 1)
  assert [source for _, source in capped] == [source for _, source in pairs]  # inputs kept
  assert collapse.cap_skips(pairs, scores, OPS, max_skips=4) == (pairs, [])


def test_pruned_operations_are_not_brought_back():
  scores = _scores_with_skips({0: 0.9, 1: 0.8, 2: 0.7})
  scores[0, 3:] = -np.inf  # edge 0 has only pool and skip left
  pairs = genotypes.derive_cell(scores, OPS)
  capped, replaced = collapse.cap_skips(pairs, scores, OPS, max_skips=0)
  assert capped[0] == ("max_pool_3x3", 0)
  assert [r["replaced_by"] for r in replaced] == ["sep_conv_3x3", "sep_conv_3x3", "max_pool_3x3"]
  assert [r["score"] for r in replaced] == [0.7, 0.8, 0.9]  # weakest first


def test_the_parameter_free_cap_replaces_pools_and_skips_by_weighted_operations():
  # Node 0: skip (0.9) and pool (0.5); node 1: pool (0.8) and skip (0.6); the rest sep_conv.
  scores = _scores_with_skips({0: 0.9, 3: 0.6})
  scores[1, 1], scores[2, 1] = 0.5, 0.8
  pairs = genotypes.derive_cell(scores, OPS)
  assert collapse.parameter_free_count(pairs) == 4
  capped, replaced = collapse.cap_parameter_free(pairs, scores, OPS, max_parameter_free=2)
  assert collapse.parameter_free_count(capped) == 2
  assert [(r["replaced"], r["score"], r["replaced_by"]) for r in replaced] == [
    ("max_pool_3x3", 0.5, "sep_conv_3x3"),
    ("skip_connect", 0.6, "sep_conv_3x3"),
  ]  # weakest first; never by another parameter-free operation
  assert [source for _, source in capped] == [source for _, source in pairs]
  # the skip cap alone would have turned no pool into a weighted operation
  assert collapse.parameter_free_count(collapse.cap_skips(pairs, scores, OPS, 0)[0]) == 2
  # an edge with only parameter-free operations left keeps its own
  scores[0, 3:] = -np.inf
  capped, _ = collapse.cap_parameter_free(pairs, scores, OPS, max_parameter_free=0)
  assert [op for op, _ in capped] == ["skip_connect"] + ["sep_conv_3x3"] * 7
  with pytest.raises(ValueError, match="max_parameter_free"):
    collapse.cap_parameter_free(pairs, scores, OPS, max_parameter_free=-1)


def test_early_stop_rule_on_hand_made_histories():
  assert collapse.early_stop_reason([2, 3], patience=3).startswith(
    "parameter-free operations in the normal cell grew from 2 to 3"
  )
  assert collapse.early_stop_reason([4, 3, 3, 3], patience=3) is None  # 3 epochs, 2 repeats
  assert "unchanged (3) for 3 epochs" in collapse.early_stop_reason([4, 3, 3, 3, 3], patience=3)
  assert collapse.early_stop_reason([5, 4, 3, 2], patience=1) is None  # falling: go on
  assert collapse.early_stop_reason([2, 2], patience=1).startswith("parameter-free")
  assert collapse.early_stop_reason([], patience=2) is None
  with pytest.raises(ValueError, match="patience"):
    collapse.early_stop_reason([1], patience=0)


def test_parameter_free_operations():
  assert [collapse.is_parameter_free(op) for op in OPS] == [True, True, True, False, False]
  assert (
    collapse.parameter_free_count((("skip_connect", 0), ("SepCDC_3x3_0.7", 1), ("avg_pool_3x3", 2)))
    == 2
  )


def test_dominant_eigenvalue_matches_a_dense_eigendecomposition():
  rng = np.random.default_rng(0)
  q, _ = np.linalg.qr(rng.normal(size=(12, 12)))
  eigenvalues = np.concatenate([[6.0], rng.uniform(-1.5, 2.0, 11)])
  a = jnp.asarray(q @ np.diag(eigenvalues) @ q.T, jnp.float32)
  b = jnp.asarray(rng.normal(size=12), jnp.float32)

  def f(x):  # a non-quadratic function: its Hessian depends on x
    return 0.5 * x @ a @ x + 0.3 * jnp.sum(jnp.cos(x)) + b @ x

  x = jnp.asarray(rng.normal(size=12), jnp.float32)
  dense = np.linalg.eigvalsh(np.asarray(jax.hessian(f)(x), np.float64))
  expected = dense[np.argmax(np.abs(dense))]
  got = collapse.dominant_eigenvalue(f, x, jax.random.key(1), iterations=100)
  assert float(got) == pytest.approx(expected, rel=1e-3)
  v = jnp.asarray(rng.normal(size=12), jnp.float32)
  np.testing.assert_allclose(
    collapse.hessian_vector_product(f, x, v),
    np.asarray(jax.hessian(f)(x)) @ np.asarray(v),
    rtol=1e-4,
    atol=1e-4,
  )


def test_dominant_eigenvalue_on_a_matrix_argument():
  """α is (cell types, edges, ops): the eigenvalue of the flattened Hessian."""
  rng = np.random.default_rng(1)
  w = jnp.asarray(rng.normal(size=(2, 3, 4)), jnp.float32)
  c = jnp.asarray(rng.uniform(0.2, 1.0, size=(2, 3, 4)), jnp.float32).at[1, 2, 3].set(3.0)
  f = lambda alpha: jnp.sum(jax.nn.softmax(alpha, -1) * w) + jnp.sum(c * alpha**2)
  alpha = jnp.asarray(rng.normal(size=(2, 3, 4)), jnp.float32)
  dense = np.linalg.eigvalsh(np.asarray(jax.hessian(f)(alpha)).reshape(24, 24))
  got = collapse.dominant_eigenvalue(f, alpha, jax.random.key(0), iterations=200)
  assert float(got) == pytest.approx(dense[np.argmax(np.abs(dense))], rel=1e-3)
