"""The cross-dataset step of FD-NAS Alg. 2: learners on source corpora, meta-update on a target.

Each step one corpus is the target D^t and the other K − 1 are sources D^s (Alg. 2 line 3).
With supernet weights w, architecture α and a batch I_i^s of every source and I^t of the target:

* line 6, one learner per source: w_i = w − η_in ∇w L(w, α; I_i^s) (a plain gradient step; the
  learners are virtual, as in MAML/MLDG, and only live inside the step);
* line 8, the meta-update of the weights from all learners' losses on the target,
  L_meta(w, α) = 1/(K−1) Σ_i L(w_i, α; I^t): the weight optimiser steps along ∇w L_meta;
* line 9, the architecture update on the target: the architecture optimiser steps along
  ∇α L_meta (after the warm-up epochs).

First order (the default) treats the learners' inner gradients as constants, so
∂w_i/∂w = I and ∂w_i/∂α = 0 (first-order MAML). Second order differentiates through the
inner step as well — exact Hessian-vector products by autodiff. Both gradients come from one
backward pass per source; the sources are scanned, so the compiled program holds one learner.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from fakenas_jax.nas import bilevel


def meta_objective(
  params,
  arch,
  model_state,
  source_batch,
  target_batch,
  rng,
  *,
  loss_fn,
  inner_learning_rate: float,
  second_order: bool,
):
  """L(w_i, α; I^t) for the learner w_i of one source batch (Alg. 2 lines 6 and 8)."""
  source_rng, target_rng = jax.random.split(rng)
  (source_loss, (model_state, _)), grads = jax.value_and_grad(loss_fn, has_aux=True)(
    params, arch, model_state, source_batch, source_rng
  )
  if not second_order:
    grads = jax.lax.stop_gradient(grads)
  learner = jax.tree.map(lambda w, g: w - inner_learning_rate * g, params, grads)
  target_loss, (model_state, metrics) = loss_fn(
    learner, arch, model_state, target_batch, target_rng
  )
  return target_loss, (model_state, {**metrics, "source_loss": source_loss})


def meta_gradients(
  state: bilevel.SearchState,
  source_batches,
  target_batch,
  rng,
  *,
  loss_fn,
  inner_learning_rate: float,
  second_order: bool = False,
):
  """(∇w L_meta, ∇α L_meta, model_state, metrics) at the state's w, α (Alg. 2 lines 5–8).

  `source_batches` hold the K − 1 sources on a leading axis; they are scanned, and batch
  statistics are threaded through every learner's source and target pass in turn.
  """
  num_sources = jax.tree.leaves(source_batches)[0].shape[0]
  grad_fn = jax.value_and_grad(meta_objective, argnums=(0, 1), has_aux=True)

  def one_source(carry, inputs):
    model_state, param_grads, arch_grads = carry
    source_batch, source_rng = inputs
    (loss, (model_state, metrics)), (g_params, g_arch) = grad_fn(
      state.params,
      state.arch,
      model_state,
      source_batch,
      target_batch,
      source_rng,
      loss_fn=loss_fn,
      inner_learning_rate=inner_learning_rate,
      second_order=second_order,
    )
    add = lambda a, b: jax.tree.map(jnp.add, a, b)
    return (model_state, add(param_grads, g_params), add(arch_grads, g_arch)), {
      **metrics,
      "loss": loss,
    }

  zeros = lambda tree: jax.tree.map(jnp.zeros_like, tree)
  carry = (state.model_state, zeros(state.params), zeros(state.arch))
  (model_state, param_grads, arch_grads), per_source = jax.lax.scan(
    one_source, carry, (source_batches, jax.random.split(rng, num_sources))
  )
  param_grads, arch_grads = jax.tree.map(lambda g: g / num_sources, (param_grads, arch_grads))
  return param_grads, arch_grads, model_state, jax.tree.map(jnp.mean, per_source)


def meta_step(
  state: bilevel.SearchState,
  source_batches,
  target_batch,
  rng,
  *,
  loss_fn,
  weight_tx: optax.GradientTransformation,
  arch_tx: optax.GradientTransformation,
  inner_learning_rate: float,
  second_order: bool = False,
  update_arch: bool = True,
) -> tuple[bilevel.SearchState, dict]:
  """One step of Alg. 2 lines 5–9: the weight and architecture optimisers step along the
  meta-gradients, both taken at the step's starting point."""
  param_grads, arch_grads, model_state, metrics = meta_gradients(
    state,
    source_batches,
    target_batch,
    rng,
    loss_fn=loss_fn,
    inner_learning_rate=inner_learning_rate,
    second_order=second_order,
  )
  params, weight_opt_state = bilevel.apply_weight_gradients(
    weight_tx, state.weight_opt_state, state.params, state.arch, param_grads
  )
  new_state = state.replace(
    step=state.step + 1, params=params, model_state=model_state, weight_opt_state=weight_opt_state
  )
  if update_arch:
    new_state = bilevel.apply_arch_gradients(new_state, arch_grads, arch_tx)
  metrics = {
    **metrics,
    "grad_norm": optax.tree.norm(param_grads),
    "arch_grad_norm": optax.tree.norm(arch_grads),
  }
  return new_state, metrics
