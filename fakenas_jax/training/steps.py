"""The compiled steps of a detector: one optimiser update, and a prediction.

    train_step = jax.jit(make_train_step(model, loss, tx))
    state, metrics = train_step(state, batch, rng, drop_path_prob)
    train_step = jax.jit(make_train_step(model, loss, tx, network_input=fn))  # fn(batch, key):
                                                 # the input made in the step (speech: LFCC)
    predict = jax.jit(make_predict_step(model))
    outputs = predict(state.variables, images)     # {'p_fake': [B], dense maps as [0, 1] maps}

Both run under `jax.jit` over the `data` mesh: the batch is sharded along its first axis and the
state replicated, so batch-normalisation statistics and the loss are over the global batch and
the gradient is the global batch's (XLA inserts the all-reduces). Dropout and drop path draw
from `fold_in(rng, step)`, so a resumed run draws what an uninterrupted one draws.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from fakenas_jax.data import masks
from fakenas_jax.training import losses
from fakenas_jax.training.train_state import TrainState

DENSE_OUTPUTS = masks.DENSE_OUTPUTS
# Outputs that are per-pixel logits (BiG-Arts); ADD's region map is already a probability.
LOGIT_MAPS = ("intrinsic", "extrinsic")


def takes_drop_path(model: nn.Module) -> bool:
  """Whether the model's `__call__` takes the drop-path probability (its `takes_drop_path`)."""
  return bool(getattr(model, "takes_drop_path", False))


def make_train_step(
  model: nn.Module,
  loss: losses.Loss,
  tx: optax.GradientTransformation,
  *,
  network_input: Callable[[Any, jax.Array], jax.Array] | None = None,
) -> Callable[..., tuple[TrainState, dict[str, jax.Array]]]:
  """train_step(state, batch, rng, drop_path_prob) → (new state, metrics of the batch).

  The network reads `batch['image']`, or `network_input(batch, key)` when given (a pure
  function, e.g. LFCC with frequency masking of `batch['audio']`; its key is derived from the
  step's).
  """
  drop_path = takes_drop_path(model)

  def train_step(
    state: TrainState, batch: dict[str, jax.Array], rng: jax.Array, drop_path_prob: jax.Array
  ):
    step_rng = jax.random.fold_in(rng, state.step)
    mutable = list(state.model_state) or False
    extra = {"drop_path_prob": drop_path_prob} if drop_path else {}
    images = (
      batch["image"]
      if network_input is None
      else network_input(batch, jax.random.fold_in(step_rng, 1))
    )

    def loss_fn(params):
      result = model.apply(
        {"params": params, **state.model_state},
        images,
        train=True,
        rngs={"dropout": step_rng},
        mutable=mutable,
        **extra,
      )
      outputs, updates = result if mutable else (result, {})
      value, metrics = loss(outputs, batch)
      return value, (dict(updates), metrics)

    (_, (model_state, metrics)), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
    updates, opt_state = tx.update(grads, state.opt_state, state.params)
    params = optax.apply_updates(state.params, updates)
    metrics["grad_norm"] = optax.tree.norm(grads)
    new_state = state.replace(
      step=state.step + 1, params=params, model_state=model_state, opt_state=opt_state
    )
    return new_state, metrics

  return train_step


def make_predict_step(model: nn.Module) -> Callable[[Any, jax.Array], dict[str, jax.Array]]:
  """predict(variables, images) → {'p_fake': [B], and each dense output as a [0, 1] map}."""

  def predict(variables: Any, images: jax.Array) -> dict[str, jax.Array]:
    outputs = model.apply(variables, images, train=False)
    predictions = {"p_fake": losses.fake_probability(outputs["logits"])}
    for name in DENSE_OUTPUTS:
      if name in outputs:
        value = outputs[name].astype(jnp.float32)
        predictions[name] = jax.nn.sigmoid(value) if name in LOGIT_MAPS else value
    return predictions

  return predict
