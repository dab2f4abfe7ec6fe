"""The detector's optimiser from a config: SGD with momentum or Adam, a schedule, decay, clipping.

    tx, schedule = make_optimizer(config.optimizer, steps_per_epoch=120, epochs=150)

Weight decay is coupled (added to the gradient before the update), as PyTorch's `SGD` and `Adam`
do with `weight_decay=`; gradients are clipped to a global norm first. Schedules, per step:

* `cosine`: PyTorch's `CosineAnnealingLR` evaluated at the step's fractional epoch,
  lr(t) = lr_min + (lr − lr_min)·(1 + cos(π t / T)) / 2, T = `cosine_period_epochs` (0 = the
  whole run, the DARTS / FD-NAS schedule). With T shorter than the run the rate rises again
  after T epochs, as PyTorch's does (BiG-Arts: T_max = 40 over 1,200 epochs).
* `step`: lr multiplied by `decay_factor` at each epoch of `decay_epochs` (ADD: ÷10 at 80, 140).
* `constant`.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import optax

SCHEDULES = ("cosine", "step", "constant")
OPTIMIZERS = ("sgd", "adam")


def learning_rate_schedule(settings: Any, steps_per_epoch: int, epochs: int) -> optax.Schedule:
  """Step → learning rate for `settings` (the `optimizer` block of a training config)."""
  if steps_per_epoch < 1 or epochs < 1:
    raise ValueError(f"need steps_per_epoch >= 1 and epochs >= 1, got {steps_per_epoch}, {epochs}")
  base = float(settings.learning_rate)
  kind = settings.get("schedule", "cosine")
  if kind == "constant":
    return optax.constant_schedule(base)
  if kind == "cosine":
    minimum = float(settings.get("learning_rate_min", 0.0))
    period_epochs = float(settings.get("cosine_period_epochs", 0) or epochs)
    period = period_epochs * steps_per_epoch

    def cosine(step):
      return minimum + (base - minimum) * 0.5 * (1.0 + jnp.cos(jnp.pi * step / period))

    return cosine
  if kind == "step":
    factor = float(settings.get("decay_factor", 0.1))
    boundaries = {
      int(epoch) * steps_per_epoch: factor for epoch in settings.get("decay_epochs", ())
    }
    return optax.piecewise_constant_schedule(base, boundaries)
  raise ValueError(f"unknown learning-rate schedule {kind!r}; use one of {SCHEDULES}")


def make_optimizer(
  settings: Any, *, steps_per_epoch: int, epochs: int
) -> tuple[optax.GradientTransformation, optax.Schedule]:
  """(optimiser, its schedule) for the `optimizer` block of a training config."""
  schedule = learning_rate_schedule(settings, steps_per_epoch, epochs)
  parts = []
  if settings.get("grad_clip_norm"):
    parts.append(optax.clip_by_global_norm(float(settings.grad_clip_norm)))
  if settings.get("weight_decay"):
    parts.append(optax.add_decayed_weights(float(settings.weight_decay)))
  name = settings.get("name", "sgd")
  if name == "sgd":
    parts.append(optax.sgd(schedule, momentum=float(settings.get("momentum", 0.0)) or None))
  elif name == "adam":
    b1, b2 = settings.get("betas", (0.9, 0.999))
    parts.append(optax.adam(schedule, b1=float(b1), b2=float(b2)))
  else:
    raise ValueError(f"unknown optimiser {name!r}; use one of {OPTIMIZERS}")
  return optax.chain(*parts), schedule
