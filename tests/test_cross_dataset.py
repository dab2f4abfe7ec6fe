"""Cross-dataset search (FD-NAS Alg. 2): meta-gradients against independent computations, and
the search end to end on two tiny corpora with kill-and-resume equality."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from fakenas_jax.nas import bilevel, cross_dataset, optimizers, search, search_steps
from tests.test_search import tiny_config

INNER = 0.3


def _loss_fn(params, arch, model_state, batch, rng):
  """Two candidate 'operations' (linear, tanh) mixed by softmax(α); counts its calls."""
  del rng
  x, y = batch["x"], batch["y"]
  mix = jax.nn.softmax(arch["alpha"])
  hidden = mix[0] * (x @ params["w1"]) + mix[1] * jnp.tanh(x @ params["w2"])
  loss = jnp.mean((hidden @ params["v"] - y) ** 2)
  return loss, ({"calls": model_state["calls"] + 1}, {"accuracy": -loss})


def _problem(num_sources=3, dtype=jnp.float32):
  keys = iter(jax.random.split(jax.random.key(0), 16))
  normal = lambda *shape: jax.random.normal(next(keys), shape, dtype)
  params = {"w1": normal(3, 4), "w2": normal(3, 4), "v": normal(4)}
  arch = {"alpha": normal(2)}
  sources = {"x": normal(num_sources, 8, 3), "y": normal(num_sources, 8)}
  target = {"x": normal(8, 3), "y": normal(8)}
  return params, arch, sources, target


def _state(params, arch, learning_rate=0.1):
  config = optimizers.OptimizerConfig(
    learning_rate=learning_rate,
    learning_rate_min=learning_rate,
    momentum=0.0,
    weight_decay=0.0,
    grad_clip_norm=None,
  )
  weight_tx, arch_tx = optimizers.bilevel_optimizers(config, 10)
  return bilevel.init_state(params, arch, {"calls": 0}, weight_tx, arch_tx), weight_tx, arch_tx


def _explicit_meta_objective(params, arch, sources, target, second_order):
  """1/(K−1) Σ_i L(w − η ∇w L(w, α; I_i^s), α; I^t), written out independently."""
  loss = lambda p, a, batch: _loss_fn(p, a, {"calls": 0}, batch, None)[0]
  total = 0.0
  for i in range(sources["x"].shape[0]):
    source = jax.tree.map(lambda x: x[i], sources)
    inner = jax.grad(loss)(params, arch, source)
    if not second_order:
      inner = jax.lax.stop_gradient(inner)
    learner = jax.tree.map(lambda w, g: w - INNER * g, params, inner)
    total = total + loss(learner, arch, target)
  return total / sources["x"].shape[0]


@pytest.mark.parametrize("second_order", [False, True])
def test_meta_gradients_match_the_written_out_objective(second_order):
  params, arch, sources, target = _problem()
  state, _, _ = _state(params, arch)
  g_params, g_arch, model_state, metrics = cross_dataset.meta_gradients(
    state,
    sources,
    target,
    jax.random.key(0),
    loss_fn=_loss_fn,
    inner_learning_rate=INNER,
    second_order=second_order,
  )
  expected_params, expected_arch = jax.grad(_explicit_meta_objective, argnums=(0, 1))(
    params, arch, sources, target, second_order
  )
  for name in params:
    np.testing.assert_allclose(g_params[name], expected_params[name], rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(g_arch["alpha"], expected_arch["alpha"], rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(
    metrics["loss"],
    _explicit_meta_objective(params, arch, sources, target, second_order),
    rtol=1e-6,
  )
  assert int(model_state["calls"]) == 2 * 3  # a source and a target pass per learner


def test_first_order_drops_the_path_through_the_inner_step():
  params, arch, sources, target = _problem()
  state, _, _ = _state(params, arch)
  first, second = (
    cross_dataset.meta_gradients(
      state,
      sources,
      target,
      jax.random.key(0),
      loss_fn=_loss_fn,
      inner_learning_rate=INNER,
      second_order=order,
    )[1]["alpha"]
    for order in (False, True)
  )
  assert not np.allclose(first, second, rtol=1e-3)


def test_second_order_arch_gradient_matches_finite_differences():
  with jax.enable_x64(True):
    params, arch, sources, target = _problem(dtype=jnp.float64)
    state, _, _ = _state(params, arch)
    g_arch = cross_dataset.meta_gradients(
      state,
      sources,
      target,
      jax.random.key(0),
      loss_fn=_loss_fn,
      inner_learning_rate=INNER,
      second_order=True,
    )[1]["alpha"]
    objective = lambda alpha: _explicit_meta_objective(
      params, {"alpha": alpha}, sources, target, True
    )
    eps = 1e-6
    numeric = [
      (objective(arch["alpha"].at[i].add(eps)) - objective(arch["alpha"].at[i].add(-eps)))
      / (2 * eps)
      for i in range(2)
    ]
    np.testing.assert_allclose(g_arch, numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("update_arch", [False, True])
def test_meta_step_moves_weights_by_sgd_and_arch_only_when_asked(update_arch):
  params, arch, sources, target = _problem()
  state, weight_tx, arch_tx = _state(params, arch, learning_rate=0.1)
  g_params, g_arch, _, _ = cross_dataset.meta_gradients(
    state, sources, target, jax.random.key(0), loss_fn=_loss_fn, inner_learning_rate=INNER
  )
  new, _ = cross_dataset.meta_step(
    state,
    sources,
    target,
    jax.random.key(0),
    loss_fn=_loss_fn,
    weight_tx=weight_tx,
    arch_tx=arch_tx,
    inner_learning_rate=INNER,
    update_arch=update_arch,
  )
  for name in params:
    np.testing.assert_allclose(new.params[name], params[name] - 0.1 * g_params[name], rtol=1e-6)
  if update_arch:
    expected = bilevel.apply_arch_gradients(state, g_arch, arch_tx).arch["alpha"]
    np.testing.assert_allclose(new.arch["alpha"], expected, rtol=1e-6)
    assert not np.allclose(new.arch["alpha"], arch["alpha"])
  else:
    np.testing.assert_array_equal(new.arch["alpha"], arch["alpha"])
    unchanged = jax.tree.map(np.array_equal, new.arch_opt_state, state.arch_opt_state)
    assert all(jax.tree.leaves(unchanged))


CORPORA = ("synthetic_faces/studio", "synthetic_faces/celeb")


def _cross_config(tiny_corpus, **changes):
  config = tiny_config(tiny_corpus, epochs=2, warmup_epochs=1, prune_every=0)
  config.cross_dataset.datasets = CORPORA
  config.cross_dataset.samples_per_epoch = 8
  config.update(changes)
  return config


def test_targets_are_reproducible_and_cover_every_corpus(tiny_corpus):
  def target_of(step_index):
    return search_steps.cross_dataset_target(_cross_config(tiny_corpus).seed, step_index, 4)

  targets = [target_of(i) for i in range(200)]
  assert targets == [target_of(i) for i in range(200)]
  assert set(targets) == {0, 1, 2, 3} and min(np.bincount(targets)) > 30


def test_cross_dataset_needs_two_distinct_corpora(tiny_corpus, tmp_path):
  config = _cross_config(tiny_corpus)
  config.cross_dataset.datasets = (CORPORA[0], CORPORA[0])
  with pytest.raises(ValueError, match="two distinct corpora"):
    search.run_search(config, tmp_path, devices=jax.devices()[:1])


def test_corpora_given_as_one_comma_separated_string_are_split():
  config = ml_collections.ConfigDict(dict(cross_dataset=dict(datasets=("a/x, b/y",))))
  assert search_steps.cross_dataset_corpora(config) == ("a/x", "b/y")
  config.cross_dataset.datasets = ("a/x", "b/y")
  assert search_steps.cross_dataset_corpora(config) == ("a/x", "b/y")
  config.cross_dataset.datasets = ()
  assert search_steps.cross_dataset_corpora(config) == ()


@pytest.mark.slow
def test_cross_dataset_search_runs_and_resumes_exactly(tiny_corpus, tmp_path):
  """Both synthetic corpora are built on first use; a run stopped after one epoch and
  resumed ends where an uninterrupted run ends."""
  config = _cross_config(tiny_corpus)
  whole = search.run_search(config, tmp_path / "whole", devices=jax.devices()[:1])
  assert [h["epoch"] for h in whole["history"]] == [1, 2]
  assert np.isfinite(whole["history"][-1]["train/loss"])
  assert "train/source_loss" in whole["history"][-1]
  search.run_search(config, tmp_path / "parts", devices=jax.devices()[:1], stop_after_epochs=1)
  resumed = search.run_search(config, tmp_path / "parts", devices=jax.devices()[:1])
  assert resumed["genotype"] == whole["genotype"]
  np.testing.assert_array_equal(resumed["alpha"], whole["alpha"])
  np.testing.assert_array_equal(resumed["beta"], whole["beta"])
