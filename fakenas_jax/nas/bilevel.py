"""Bilevel updates of a differentiable architecture search (DARTS §2.3, FD-NAS Alg. 1).

Weights w (`params`) minimise the training loss, the architecture α (`arch`: α and β) the
validation loss of the weights it induces. The steps here are pure functions of a `SearchState`
and a batch, to be `jax.jit`-ed (data-parallel through the shardings of their inputs):

* `weight_step`: one step of the weight optimiser on a training batch;
* `arch_step`: one step of the architecture optimiser on a validation batch, first order
  (∇α L_val(w, α)) or second order — the exact gradient of α ↦ L_val(w′(α), α) through the
  unrolled weight step w′(α) = w + Δ(∇w L_train(w, α)), where Δ is the weight optimiser's own
  update (its momentum, weight decay, clipping and learning rate included). JAX differentiates
  through that step, so the Hessian-vector product of DARTS Eq. 7 is exact, not a finite
  difference.

`loss_fn(params, arch, model_state, batch, rng) -> (loss, (new_model_state, metrics))` is the
network's loss; `model_state` holds non-trained collections such as `batch_stats`.
"""

from __future__ import annotations

from typing import Any, Callable

import flax
import jax
import jax.numpy as jnp
import optax

LossFn = Callable[..., tuple[jax.Array, tuple[Any, dict]]]


@flax.struct.dataclass
class SearchState:
  step: jax.Array
  params: Any
  arch: Any
  model_state: Any
  weight_opt_state: Any
  arch_opt_state: Any

  @property
  def variables(self):
    return {"params": self.params, "arch": self.arch}


def init_state(
  params,
  arch,
  model_state,
  weight_tx: optax.GradientTransformation,
  arch_tx: optax.GradientTransformation,
) -> SearchState:
  variables = {"params": params, "arch": arch}
  return SearchState(
    step=jnp.zeros((), jnp.int32),
    params=params,
    arch=arch,
    model_state=model_state,
    weight_opt_state=weight_tx.init(variables),
    arch_opt_state=arch_tx.init(variables),
  )


def apply_weight_gradients(tx, opt_state, params, arch, params_grad):
  """One step of the weight optimiser `tx` (of the `params` group) along `params_grad`."""
  grads = {"params": params_grad, "arch": jax.tree.map(jnp.zeros_like, arch)}
  updates, opt_state = tx.update(grads, opt_state, {"params": params, "arch": arch})
  return optax.apply_updates(params, updates["params"]), opt_state


def weight_step(
  state: SearchState, batch, rng, *, loss_fn: LossFn, weight_tx: optax.GradientTransformation
) -> tuple[SearchState, dict]:
  """One weight update on `batch`; α is held fixed."""
  grad_fn = jax.value_and_grad(loss_fn, argnums=0, has_aux=True)
  (loss, (model_state, metrics)), grads = grad_fn(
    state.params, state.arch, state.model_state, batch, rng
  )
  params, opt_state = apply_weight_gradients(
    weight_tx, state.weight_opt_state, state.params, state.arch, grads
  )
  metrics = {**metrics, "loss": loss, "grad_norm": optax.tree.norm(grads)}
  return state.replace(
    step=state.step + 1, params=params, model_state=model_state, weight_opt_state=opt_state
  ), metrics


def unrolled_validation_loss(
  arch,
  state: SearchState,
  train_batch,
  val_batch,
  rng,
  *,
  loss_fn: LossFn,
  weight_tx: optax.GradientTransformation,
):
  """L_val(w′(α), α) with w′ one virtual weight step on `train_batch` (DARTS Eq. 6)."""
  train_rng, val_rng = jax.random.split(rng)
  grads, (model_state, _) = jax.grad(loss_fn, argnums=0, has_aux=True)(
    state.params, arch, state.model_state, train_batch, train_rng
  )
  virtual_params, _ = apply_weight_gradients(
    weight_tx, state.weight_opt_state, state.params, arch, grads
  )
  return loss_fn(virtual_params, arch, model_state, val_batch, val_rng)


def apply_arch_gradients(state: SearchState, arch_grads, arch_tx) -> SearchState:
  """One step of the architecture optimiser `arch_tx` (of the `arch` group) along `arch_grads`."""
  grads = {"params": jax.tree.map(jnp.zeros_like, state.params), "arch": arch_grads}
  updates, opt_state = arch_tx.update(grads, state.arch_opt_state, state.variables)
  return state.replace(
    arch=optax.apply_updates(state.arch, updates["arch"]), arch_opt_state=opt_state
  )


def arch_step(
  state: SearchState,
  val_batch,
  rng,
  *,
  loss_fn: LossFn,
  arch_tx: optax.GradientTransformation,
  second_order: bool = False,
  train_batch=None,
  weight_tx: optax.GradientTransformation | None = None,
) -> tuple[SearchState, dict]:
  """One architecture update on `val_batch`; the weights are held fixed."""
  if second_order:
    if train_batch is None or weight_tx is None:
      raise ValueError("a second-order architecture step needs train_batch and weight_tx")
    objective = lambda arch: unrolled_validation_loss(
      arch, state, train_batch, val_batch, rng, loss_fn=loss_fn, weight_tx=weight_tx
    )
  else:
    objective = lambda arch: loss_fn(state.params, arch, state.model_state, val_batch, rng)
  (loss, (_, metrics)), arch_grads = jax.value_and_grad(objective, has_aux=True)(state.arch)
  metrics = {**metrics, "arch_loss": loss, "arch_grad_norm": optax.tree.norm(arch_grads)}
  return apply_arch_gradients(state, arch_grads, arch_tx), metrics
