"""The two optimisers of a bilevel search, as `optax.partition`s over `{'params', 'arch'}`.

Each step of the search updates one group: a weight step moves `params` and an architecture
step moves `arch`. Both optimisers see the whole `{'params': ..., 'arch': ...}` tree; in each,
the group it does not own is `optax.set_to_zero()`, so it never moves and keeps no state — no
momentum or Adam moments of one group leak into the steps of the other, and weight decay never
touches the architecture parameters through the weight optimiser (nor the reverse).

Defaults are DARTS's (DARTS §3.3 / its public training recipe): weights SGD, momentum 0.9, cosine from 0.025 to 0.001,
coupled weight decay 3e-4 (added to the gradient, as PyTorch's SGD does), gradients clipped to a
global norm of 5; architecture Adam 3e-4, β = (0.5, 0.999), coupled weight decay 1e-3.
FD-NAS searches its weights with Adam (`weights='adam'`).
"""

from __future__ import annotations

import dataclasses

import optax

GROUPS = ("params", "arch")


@dataclasses.dataclass(frozen=True)
class OptimizerConfig:
  weights: str = "sgd"  # 'sgd' | 'adam'
  learning_rate: float = 0.025
  learning_rate_min: float = 0.001
  momentum: float = 0.9
  weight_decay: float = 3e-4
  grad_clip_norm: float | None = 5.0
  arch_learning_rate: float = 3e-4
  arch_betas: tuple[float, float] = (0.5, 0.999)
  arch_weight_decay: float = 1e-3


def weight_schedule(config: OptimizerConfig, total_steps: int) -> optax.Schedule:
  """Cosine from `learning_rate` to `learning_rate_min` over `total_steps` (PyTorch's
  CosineAnnealingLR evaluated per step)."""
  alpha = config.learning_rate_min / config.learning_rate if config.learning_rate else 0.0
  return optax.cosine_decay_schedule(config.learning_rate, max(1, total_steps), alpha=alpha)


def weight_transform(config: OptimizerConfig, total_steps: int) -> optax.GradientTransformation:
  """The weight optimiser alone (applied to `params`)."""
  parts = []
  if config.grad_clip_norm:
    parts.append(optax.clip_by_global_norm(config.grad_clip_norm))
  if config.weight_decay:
    parts.append(optax.add_decayed_weights(config.weight_decay))
  schedule = weight_schedule(config, total_steps)
  if config.weights == "sgd":
    parts.append(optax.sgd(schedule, momentum=config.momentum or None))
  elif config.weights == "adam":
    parts.append(optax.adam(schedule))
  else:
    raise ValueError(f"unknown weight optimiser {config.weights!r}; use 'sgd' or 'adam'")
  return optax.chain(*parts)


def arch_transform(config: OptimizerConfig) -> optax.GradientTransformation:
  """The architecture optimiser alone (applied to `arch`)."""
  b1, b2 = config.arch_betas
  parts = [optax.add_decayed_weights(config.arch_weight_decay)] if config.arch_weight_decay else []
  return optax.chain(*parts, optax.adam(config.arch_learning_rate, b1=b1, b2=b2))


def _labels(tree):
  return {group: group for group in tree}


def bilevel_optimizers(config: OptimizerConfig, total_steps: int):
  """(weight optimiser, architecture optimiser), each a partition over {'params', 'arch'}."""
  weights = optax.partition(
    {"params": weight_transform(config, total_steps), "arch": optax.set_to_zero()}, _labels
  )
  arch = optax.partition({"params": optax.set_to_zero(), "arch": arch_transform(config)}, _labels)
  return weights, arch
