"""Zero-cost proxies against hand computations on a tiny network; synflow ignores the data."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from fakenas_jax.models import factory
from fakenas_jax.nas import random_search, zero_cost
from fakenas_jax.nn import genotypes

RNG = np.random.default_rng(0)
X = RNG.normal(size=(6, 5)).astype(np.float32)
Y = np.array([0, 1, 1, 0, 1, 0])
W1 = RNG.normal(size=(5, 4)).astype(np.float32)
W2 = RNG.normal(size=(4, 2)).astype(np.float32)
PARAMS = {"w1": jnp.asarray(W1), "w2": jnp.asarray(W2)}


def linear(params, x):
  return x @ params["w1"] @ params["w2"]


def relu_net(params, x):
  return jax.nn.relu(x @ params["w1"]) @ params["w2"]


def _ce_grads_linear():
  """dL/dW1, dL/dW2 of the mean cross-entropy of the linear net, by hand."""
  hidden = X @ W1
  logits = hidden @ W2
  p = np.exp(logits - logits.max(1, keepdims=True))
  p /= p.sum(1, keepdims=True)
  delta = (p - np.eye(2)[Y]) / len(Y)
  return X.T @ (delta @ W2.T), hidden.T @ delta


def _loss(params):
  logits = linear(params, jnp.asarray(X))
  return -jnp.mean(jax.nn.log_softmax(logits)[jnp.arange(6), Y])


def test_grad_norm_and_snip_by_hand():
  g1, g2 = _ce_grads_linear()
  assert zero_cost.grad_norm(_loss, PARAMS) == pytest.approx(
    np.linalg.norm(g1) + np.linalg.norm(g2), rel=1e-5
  )
  assert zero_cost.snip(_loss, PARAMS) == pytest.approx(
    np.abs(W1 * g1).sum() + np.abs(W2 * g2).sum(), rel=1e-5
  )


def test_synflow_by_hand():
  # R = 𝟙ᵀ|W1||W2|𝟙; each layer's Σ θ ∂R/∂θ equals R for a linear chain, so synflow = 2R.
  r = np.ones(5) @ np.abs(W1) @ np.abs(W2) @ np.ones(2)
  assert zero_cost.synflow(linear, PARAMS, (5,)) == pytest.approx(2 * r, rel=1e-5)


def test_naswot_jacobian_score_by_hand():
  # Per-sample Jacobian of Σ_c f_c: W1 diag(relu'(x W1)) W2 𝟙.
  masks = (X @ W1 > 0).astype(np.float64)
  jac = np.stack([W1 @ (m * (W2 @ np.ones(2))) for m in masks])
  corr = np.corrcoef(jac)
  lam = np.linalg.eigvalsh(corr)
  expected = -np.sum(np.log(lam + 1e-5) + 1 / (lam + 1e-5))
  assert zero_cost.jacobian_score(relu_net, PARAMS, jnp.asarray(X)) == pytest.approx(
    expected, rel=1e-4
  )


def test_identical_jacobians_score_lower_than_independent_ones():
  same = np.tile(RNG.normal(size=(1, 50)), (6, 1)) + 1e-3 * RNG.normal(size=(6, 50))
  independent = RNG.normal(size=(6, 50))
  assert zero_cost.kernel_score(independent) > zero_cost.kernel_score(same)


class _Tiny(nn.Module):
  @nn.compact
  def __call__(self, x, train=False):
    x = nn.Conv(4, (3, 3))(x)
    x = nn.BatchNorm(use_running_average=not train)(x)
    return {"logits": nn.Dense(2)(jnp.mean(jax.nn.relu(x), (1, 2)))}


def test_network_proxies_and_synflows_invariance_to_the_data():
  model = _Tiny()
  variables = model.init(jax.random.key(0), jnp.zeros((1, 8, 8, 3)))
  a = {"image": RNG.normal(size=(4, 8, 8, 3)).astype(np.float32), "label": np.array([0, 1, 0, 1])}
  b = {"image": RNG.uniform(size=(4, 8, 8, 3)).astype(np.float32), "label": np.array([1, 1, 0, 0])}
  pa, pb = (
    zero_cost.network_proxies(model, variables, a),
    zero_cost.network_proxies(model, variables, b),
  )
  assert set(pa) == set(zero_cost.PROXIES) and all(np.isfinite(v) for v in pa.values())
  assert pa["synflow"] == pb["synflow"] > 0
  assert pa["snip"] != pb["snip"] and pa["naswot"] != pb["naswot"]
  with pytest.raises(ValueError, match="unknown proxies"):
    zero_cost.network_proxies(model, variables, a, proxies=("flops",))


def test_proxies_of_a_genotypes_network(tmp_path):
  ops = ("none", "max_pool_3x3", "skip_connect", "SepCDC_3x3_0.0")
  genotype = random_search.sample_genotypes(0, 1, ops)[0]
  genotypes.save(genotype, tmp_path / "g.json", search_space="fdnas")
  model = factory.build_model(
    {"name": "c2pn", "channels": 4, "layout": "NR", "genotype": str(tmp_path / "g.json")}
  )
  variables = model.init(jax.random.key(0), jnp.zeros((1, 16, 16, 3)), train=False)
  batch = {
    "image": RNG.normal(size=(4, 16, 16, 3)).astype(np.float32),
    "label": np.array([0, 1, 0, 1]),
  }
  scores = zero_cost.network_proxies(model, variables, batch)
  assert all(np.isfinite(v) for v in scores.values()) and scores["grad_norm"] > 0


@pytest.mark.slow
def test_zero_cost_script_end_to_end_at_tiny_size(tmp_path):
  import json
  import pathlib
  import subprocess
  import sys

  root = pathlib.Path(__file__).resolve().parent.parent
  result = subprocess.run(
    [
      sys.executable,
      "scripts/zero_cost.py",
      "--config=configs/demo.py:tiny",
      "--num=3",
      "--train_subset=2",
      "--epochs=1",
      "--batch=4",
      f"--workdir={tmp_path}",
    ],
    cwd=root,
    capture_output=True,
    text=True,
    timeout=900,
  )
  assert result.returncode == 0, result.stderr[-3000:]
  report = json.loads((tmp_path / "zero_cost.json").read_text())
  assert len(report["rows"]) == 3
  assert all("in_corpus_auc" in row for row in report["rows"][:2])
  assert "in_corpus_auc" not in report["rows"][2]
  assert set(report["kendall_tau"]["in_corpus_auc"]) == set(zero_cost.PROXIES)
  assert "Kendall τ" in (tmp_path / "zero_cost.md").read_text()
