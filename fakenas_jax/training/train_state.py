"""The state of a detector's training: step, weights, batch statistics, optimiser state.

    variables = init_variables(model, image_size=64, seed=0)
    names = output_names(model, variables, image_size=64)  # {'logits', 'aux_logits', ...}
    state = create_train_state(variables, tx)

`model_state` holds every variable collection but `params` (`batch_stats` for networks with
batch normalisation, empty otherwise). The whole state is a pytree of arrays, so it is what
Orbax saves; `abstract_train_state` (shapes only, nothing computed) is the target a checkpoint
is restored into.
"""

from __future__ import annotations

from typing import Any

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import optax


@flax.struct.dataclass
class TrainState:
  step: jax.Array  # int32 scalar: optimiser updates done
  params: Any
  model_state: Any  # dict of the other variable collections ({'batch_stats': ...} or {})
  opt_state: Any

  @property
  def variables(self) -> dict[str, Any]:
    """What `model.apply` takes."""
    return {"params": self.params, **self.model_state}


def _dummy_images(image_size: int | tuple[int, ...]) -> jax.Array:
  """One zero input: S×S RGB for an int S, or of the given (H, W, C) (e.g. speech LFCC), or
  (N,) (a waveform, for networks with a sinc front end)."""
  shape = (image_size, image_size, 3) if isinstance(image_size, int) else tuple(image_size)
  if len(shape) not in (1, 3) or min(shape) < 1:
    raise ValueError(
      f"image_size must be positive (or a positive (H, W, C) or (N,)), got {image_size}"
    )
  return jnp.zeros((1, *shape), jnp.float32)


def init_variables(
  model: nn.Module, image_size: int | tuple[int, ...], seed: int
) -> dict[str, Any]:
  """The model's variables for S×S RGB inputs (or (H, W, C) ones), initialised from `seed`.

  The rbg generator compiles far faster than threefry for networks with many parameter leaves.
  """
  images = _dummy_images(image_size)
  key = jax.random.key(seed, impl="rbg")
  return jax.jit(lambda k: model.init({"params": k}, images, train=False))(key)


def create_train_state(variables: dict[str, Any], tx: optax.GradientTransformation) -> TrainState:
  """Step 0 from initialised `variables`: a fresh optimiser state."""
  variables = dict(flax.core.unfreeze(variables))
  params = variables.pop("params")
  return TrainState(
    step=jnp.zeros((), jnp.int32), params=params, model_state=variables, opt_state=tx.init(params)
  )


def abstract_train_state(
  model: nn.Module, tx: optax.GradientTransformation, *, image_size: int | tuple[int, ...]
) -> TrainState:
  """Shapes and dtypes of a `TrainState` of `model` (nothing is computed)."""
  return jax.eval_shape(lambda: create_train_state(init_variables(model, image_size, 0), tx))


def output_names(
  model: nn.Module, variables: dict[str, Any], image_size: int | tuple[int, ...]
) -> frozenset[str]:
  """Names of the outputs the model returns in training (traced shapes only, nothing runs)."""
  images = _dummy_images(image_size)
  mutable = [name for name in variables if name != "params"] or False

  def apply(variables):
    result = model.apply(
      variables, images, train=True, rngs={"dropout": jax.random.key(0)}, mutable=mutable
    )
    return result[0] if mutable else result

  outputs = jax.eval_shape(apply, variables)
  if not isinstance(outputs, dict):
    raise ValueError(f"a detector must return a dict of outputs, got {type(outputs).__name__}")
  return frozenset(outputs)
