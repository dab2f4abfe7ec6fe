"""Zero-cost proxies: scores of an untrained network on one minibatch that rank architectures.

The cheap performance estimators of the NAS survey (training-free proxies), each a number for
the network built from any genotype, in seconds:
  * grad-norm — Σ over weight tensors of ‖∂L/∂θ‖₂ at initialisation (Abdelfattah et al. 2021);
  * SNIP — Σ |θ ⊙ ∂L/∂θ|, the connection sensitivity of Lee et al. (2019);
  * synflow — Σ θ ⊙ ∂R/∂θ with R = Σ f(𝟙; |θ|), the network with every weight made positive on
    an all-ones input (Tanaka et al. 2020): data-free by construction, BN in inference mode;
  * NASWOT (Jacobian kernel) — Mellor et al. (2020, v1 §3): the per-sample input Jacobians
    J_i = ∂(Σ_c f_c(x_i))/∂x_i of a batch, their correlation matrix Σ_J with eigenvalues λ, and
    score = −Σ_i [log(λ_i + k) + 1/(λ_i + k)], k = 1e-5 (higher = less correlated = better).
L is the mean cross-entropy on the batch. The functions take `forward(params, images) ->
logits` and `loss(params) -> scalar`; `network_proxies` adapts a detector of models/factory.
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

PROXIES = ("grad_norm", "snip", "synflow", "naswot")
NASWOT_K = 1e-5


def _weights(tree):
  return [leaf for leaf in jax.tree.leaves(tree)]


def grad_norm(loss: Callable, params) -> float:
  grads = jax.grad(loss)(params)
  return float(sum(jnp.linalg.norm(g.ravel()) for g in _weights(grads)))


def snip(loss: Callable, params) -> float:
  grads = jax.grad(loss)(params)
  return float(sum(jnp.abs(p * g).sum() for p, g in zip(_weights(params), _weights(grads))))


def synflow(forward: Callable, params, input_shape) -> float:
  """Σ θ ⊙ ∂R/∂θ at |θ|, R = Σ forward(|θ|, 𝟙); `input_shape` is one sample's, batch of 1."""
  positive = jax.tree.map(jnp.abs, params)
  ones = jnp.ones((1, *input_shape), jnp.float32)
  grads = jax.grad(lambda p: jnp.sum(forward(p, ones)))(positive)
  return float(sum((p * g).sum() for p, g in zip(_weights(positive), _weights(grads))))


def jacobian_score(forward: Callable, params, images) -> float:
  """NASWOT's Jacobian-kernel score on `images` (a batch of two or more)."""

  def summed(x):  # Σ over the batch and classes: each sample's own Jacobian, stacked
    return jnp.sum(forward(params, x))

  jacobians = np.asarray(jax.grad(summed)(images), np.float64).reshape(images.shape[0], -1)
  return kernel_score(jacobians)


def kernel_score(jacobians: np.ndarray) -> float:
  correlation = np.corrcoef(jacobians)
  correlation = np.nan_to_num(correlation, nan=0.0)
  eigenvalues = np.linalg.eigvalsh(correlation)
  return float(-np.sum(np.log(eigenvalues + NASWOT_K) + 1.0 / (eigenvalues + NASWOT_K)))


def network_proxies(model, variables: dict, batch: dict, *, proxies=PROXIES) -> dict[str, float]:
  """Every proxy of `proxies` for a detector (models/factory) with its initial `variables` on
  one minibatch {'image': (B, H, W, C), 'label': (B,)}. BN normalises by batch statistics for
  the loss-based proxies (as in training) and by its running averages for synflow and NASWOT
  (so the samples do not interact)."""
  unknown = set(proxies) - set(PROXIES)
  if unknown:
    raise ValueError(f"unknown proxies {sorted(unknown)}; known: {', '.join(PROXIES)}")
  rest = {k: v for k, v in variables.items() if k != "params"}
  images = jnp.asarray(batch["image"], jnp.float32)
  labels = jnp.asarray(batch["label"])

  def logits_of(out):
    return out["logits"] if isinstance(out, dict) else out

  def loss(params):
    out, _ = model.apply(
      {"params": params, **rest},
      images,
      train=True,
      rngs={"dropout": jax.random.key(0)},
      mutable=list(rest) or False,
    )
    return optax.softmax_cross_entropy_with_integer_labels(logits_of(out), labels).mean()

  def forward(params, x):
    return logits_of(model.apply({"params": params, **rest}, x, train=False))

  params = variables["params"]
  out = {}
  if "grad_norm" in proxies:
    out["grad_norm"] = grad_norm(loss, params)
  if "snip" in proxies:
    out["snip"] = snip(loss, params)
  if "synflow" in proxies:
    out["synflow"] = synflow(forward, params, images.shape[1:])
  if "naswot" in proxies:
    out["naswot"] = jacobian_score(forward, params, images)
  return out
