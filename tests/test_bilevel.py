"""Bilevel updates on a tiny differentiable 'architecture': idle groups frozen, exact second order."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from fakenas_jax.nas import bilevel, optimizers


def _loss_fn(params, arch, model_state, batch, rng):
  """A 'supernet' with two candidate ops (linear, tanh) mixed by softmax(α)."""
  del rng
  x, y = batch
  weights = jax.nn.softmax(arch["alpha"])
  hidden = weights[0] * (x @ params["w1"]) + weights[1] * jnp.tanh(x @ params["w2"])
  loss = jnp.mean((hidden @ params["v"] - y) ** 2)
  return loss, (model_state, {})


def _problem(seed=0, dtype=jnp.float32):
  keys = jax.random.split(jax.random.key(seed), 8)
  params = {
    "w1": jax.random.normal(keys[0], (3, 4), dtype),
    "w2": jax.random.normal(keys[1], (3, 4), dtype),
    "v": jax.random.normal(keys[2], (4,), dtype),
  }
  arch = {"alpha": jax.random.normal(keys[3], (2,), dtype)}
  train = (jax.random.normal(keys[4], (16, 3), dtype), jax.random.normal(keys[5], (16,), dtype))
  val = (jax.random.normal(keys[6], (16, 3), dtype), jax.random.normal(keys[7], (16,), dtype))
  return params, arch, train, val


def _state(config, steps=100, dtype=jnp.float32):
  params, arch, train, val = _problem(dtype=dtype)
  weight_tx, arch_tx = optimizers.bilevel_optimizers(config, steps)
  return bilevel.init_state(params, arch, {}, weight_tx, arch_tx), weight_tx, arch_tx, train, val


def test_weight_step_moves_only_weights_and_arch_step_only_arch():
  state, weight_tx, arch_tx, train, val = _state(optimizers.OptimizerConfig())
  new, _ = bilevel.weight_step(
    state, train, jax.random.key(0), loss_fn=_loss_fn, weight_tx=weight_tx
  )
  assert not np.allclose(new.params["w1"], state.params["w1"])
  np.testing.assert_array_equal(new.arch["alpha"], state.arch["alpha"])
  after, _ = bilevel.arch_step(new, val, jax.random.key(1), loss_fn=_loss_fn, arch_tx=arch_tx)
  assert not np.allclose(after.arch["alpha"], new.arch["alpha"])
  for name in new.params:
    np.testing.assert_array_equal(after.params[name], new.params[name])


def test_idle_group_keeps_no_optimizer_state():
  """Alternating steps: the architecture step must not move weights through leftover momentum."""
  state, weight_tx, arch_tx, train, val = _state(optimizers.OptimizerConfig(momentum=0.9))
  state, _ = bilevel.weight_step(
    state, train, jax.random.key(0), loss_fn=_loss_fn, weight_tx=weight_tx
  )
  before = state.params
  for _ in range(3):
    state, _ = bilevel.arch_step(state, val, jax.random.key(1), loss_fn=_loss_fn, arch_tx=arch_tx)
  for name in before:
    np.testing.assert_array_equal(state.params[name], before[name])
  # The weight optimiser holds momentum for `params` only; the architecture optimiser holds
  # Adam's two moments for `arch` only (scalar step counters aside).
  size = lambda tree: sum(np.size(x) for x in jax.tree.leaves(tree) if np.ndim(x))
  assert size(state.weight_opt_state) == size(state.params)
  assert size(state.arch_opt_state) == 2 * size(state.arch)


def test_weight_decay_never_touches_arch_in_weight_steps():
  state, weight_tx, _, train, _ = _state(optimizers.OptimizerConfig(weight_decay=0.5))
  new, _ = bilevel.weight_step(
    state, train, jax.random.key(0), loss_fn=_loss_fn, weight_tx=weight_tx
  )
  np.testing.assert_array_equal(new.arch["alpha"], state.arch["alpha"])


def test_second_order_gradient_matches_finite_differences():
  with jax.enable_x64(True):
    config = optimizers.OptimizerConfig(
      learning_rate=0.1, learning_rate_min=0.1, momentum=0.9, weight_decay=3e-4, grad_clip_norm=None
    )
    state, weight_tx, _, train, val = _state(config, dtype=jnp.float64)
    # A non-zero momentum buffer, as mid-search.
    state, _ = bilevel.weight_step(
      state, train, jax.random.key(0), loss_fn=_loss_fn, weight_tx=weight_tx
    )
    objective = lambda alpha: bilevel.unrolled_validation_loss(
      {"alpha": alpha}, state, train, val, jax.random.key(2), loss_fn=_loss_fn, weight_tx=weight_tx
    )[0]
    alpha = state.arch["alpha"]
    grad = jax.grad(objective)(alpha)
    eps = 1e-6
    numeric = np.array(
      [
        (objective(alpha.at[i].add(eps)) - objective(alpha.at[i].add(-eps))) / (2 * eps)
        for i in range(alpha.size)
      ]
    )
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)


def test_second_order_equals_the_darts_formula_for_plain_sgd():
  """∇α L_val(w′) − ξ ∇²_{α,w} L_train(w) · ∇w′ L_val(w′), computed independently."""
  with jax.enable_x64(True):
    xi = 0.05
    config = optimizers.OptimizerConfig(
      learning_rate=xi, learning_rate_min=xi, momentum=0.0, weight_decay=0.0, grad_clip_norm=None
    )
    state, weight_tx, arch_tx, train, val = _state(config, dtype=jnp.float64)
    params, arch = state.params, state.arch
    loss = lambda p, a, batch: _loss_fn(p, a, {}, batch, None)[0]
    g_train = jax.grad(loss)(params, arch, train)
    virtual = jax.tree.map(lambda w, g: w - xi * g, params, g_train)
    dalpha = jax.grad(loss, argnums=1)(virtual, arch, val)["alpha"]
    dw_val = jax.grad(loss)(virtual, arch, val)
    # Mixed second derivative times a vector: ∇α (∇w L_train(w, α) · v).
    hvp = jax.grad(
      lambda a: sum(
        jnp.vdot(g, v)
        for g, v in zip(jax.tree.leaves(jax.grad(loss)(params, a, train)), jax.tree.leaves(dw_val))
      )
    )(arch)["alpha"]
    expected = dalpha - xi * hvp
    objective = lambda a: bilevel.unrolled_validation_loss(
      a, state, train, val, jax.random.key(0), loss_fn=_loss_fn, weight_tx=weight_tx
    )
    got = jax.grad(lambda a: objective(a)[0])(arch)["alpha"]
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


def test_second_order_arch_step_needs_its_inputs():
  state, weight_tx, arch_tx, train, val = _state(optimizers.OptimizerConfig())
  with pytest.raises(ValueError, match="train_batch"):
    bilevel.arch_step(
      state, val, jax.random.key(0), loss_fn=_loss_fn, arch_tx=arch_tx, second_order=True
    )


def test_unknown_weight_optimizer():
  with pytest.raises(ValueError, match="sgd"):
    optimizers.bilevel_optimizers(optimizers.OptimizerConfig(weights="lion"), 10)
