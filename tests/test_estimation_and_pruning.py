"""FD-NAS Eq. 4–5, 7–8 on hand-made errors, and the pruning schedule of Alg. 1."""

import jax.numpy as jnp
import numpy as np
import pytest

from fakenas_jax.nas import estimation, pruning


def test_negative_infinity_norm_is_the_smallest_absolute_value():
  assert float(
    estimation.negative_infinity_norm(jnp.array([-3.0, 0.5, -0.2, 4.0]))
  ) == pytest.approx(0.2)


def test_eq4_on_hand_made_errors():
  # 3 operations, 2 paired batches each.
  search = jnp.array([[0.30, 0.20], [0.10, 0.40], [0.50, 0.50]])
  held_out = jnp.array([[0.10, 0.25], [0.30, 0.10], [0.45, 0.60]])
  gaps = np.array([0.05, 0.20, 0.05])  # min_b |Ē_b − Ê_b| per operation
  logits = 1.0 / (gaps + estimation.EPSILON)
  expected = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
  np.testing.assert_allclose(estimation.estimation_scores(search, held_out), expected, rtol=1e-5)


def test_standardised_gap_ranks_instead_of_picking():
  search = jnp.array([[0.30, 0.20], [0.10, 0.40], [0.50, 0.50], [0.2, 0.2]])
  held_out = jnp.array([[0.10, 0.25], [0.30, 0.10], [0.45, 0.60], [0.0, 0.0]])
  active = jnp.array([True, True, True, False])
  gaps = np.array([0.05, 0.20, 0.05])  # the inactive fourth takes no part in the statistics
  z = (gaps - gaps.mean()) / gaps.std()
  expected = np.exp(-z) / np.exp(-z).sum()
  got = estimation.estimation_scores(search, held_out, active, form="standardised_gap")
  np.testing.assert_allclose(got[:3], expected, rtol=1e-5)
  assert float(got[3]) == 0.0
  # Scale-free: the same gaps in other units give the same E; Eq. 4's would not.
  scaled = estimation.estimation_scores(10 * search, 10 * held_out, active, form="standardised_gap")
  np.testing.assert_allclose(scaled, got, rtol=1e-5)
  paper = estimation.estimation_scores(search[:3], held_out[:3])
  assert float(paper[1]) < 1e-3 < 0.05 < float(got[1])  # Eq. 4 all but drops the larger gap
  # Equal gaps: uniform over the active operations.
  flat = estimation.estimation_scores(search[:3], search[:3] + 0.1, form="standardised_gap")
  np.testing.assert_allclose(flat, np.full(3, 1 / 3), rtol=1e-3)
  with pytest.raises(ValueError, match="estimation form"):
    estimation.estimation_scores(search, held_out, form="inverse")


def test_eq5_and_inactive_operations():
  alpha = jnp.array([[0.1, 0.7, -0.3]])
  e = jnp.array([[0.2, 0.5, 0.3]])
  softmax = np.exp([0.1, 0.7, -0.3]) / np.exp([0.1, 0.7, -0.3]).sum()
  np.testing.assert_allclose(
    estimation.indicator(alpha, e)[0], softmax + 0.15 * np.array([0.2, 0.5, 0.3]), rtol=1e-6
  )
  np.testing.assert_allclose(estimation.indicator(alpha, None)[0], softmax, rtol=1e-6)
  active = jnp.array([[True, False, True]])
  weights = estimation.indicator(alpha, None, active)[0]
  assert float(weights[1]) == 0.0 and float(weights.sum()) == pytest.approx(1.0)


def test_estimation_term_carries_no_gradient():
  import jax

  grad = jax.grad(lambda e: estimation.indicator(jnp.zeros((1, 3)), e).sum())(jnp.ones((1, 3)))
  assert not np.asarray(grad).any()


def test_edge_normalisation_is_a_softmax_per_node():
  beta = jnp.arange(14, dtype=jnp.float32) * 0.1
  weights = np.asarray(estimation.node_edge_weights(beta))
  for start, count in ((0, 2), (2, 3), (5, 4), (9, 5)):
    expected = np.exp(np.asarray(beta[start : start + count]))
    np.testing.assert_allclose(weights[start : start + count], expected / expected.sum(), rtol=1e-6)


def test_eq8_combines_edge_and_operation_weights():
  alpha = jnp.zeros((14, 4))
  beta = jnp.zeros((14,))
  h = np.asarray(estimation.importance(alpha, beta, None))
  np.testing.assert_allclose(h[0], 0.5 * 0.25)  # node 0: 2 inputs, 4 ops
  np.testing.assert_allclose(h[13], 0.2 * 0.25)  # node 3: 5 inputs


def test_pruning_epochs_follow_algorithm_1():
  assert [e for e in range(70) if pruning.is_pruning_epoch(e, 20)] == [20, 40, 60]
  assert not any(pruning.is_pruning_epoch(e, 0) for e in range(70))


def test_prune_drops_the_two_lowest_and_keeps_a_real_operation():
  importance = np.array([[0.9, 0.1, 0.5, 0.2, 0.3], [0.9, 0.8, 0.1, 0.1, 0.1]])
  active = np.ones((2, 5), bool)
  pruned = pruning.prune(importance, active)
  np.testing.assert_array_equal(pruned[0], [True, False, True, False, True])
  np.testing.assert_array_equal(pruned[1], [True, True, True, False, False])  # ties: later first
  # An edge left with `none` and one other never loses the other.
  active = np.array([[True, True, False, False, False]])
  never_last = np.array([True, False, False, False, False])
  pruned = pruning.prune(np.array([[0.9, 0.1, 0, 0, 0]]), active, never_last=never_last)
  np.testing.assert_array_equal(pruned[0], [False, True, False, False, False])


def test_channel_divisor_halves():
  assert [pruning.channel_divisor(8, n) for n in range(5)] == [8, 4, 2, 1, 1]
