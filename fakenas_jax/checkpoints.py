"""Orbax checkpoints of a run: the array state and a JSON record beside it.

Every checkpoint step holds two items: `state` (any pytree of arrays — weights, optimiser
states, α/β, RNG keys as raw key data) and `meta` (JSON: the search state machine, the data
iterator's state, the epoch, …). `restore` reads them back against an abstract target
(`jax.ShapeDtypeStruct`s carrying shardings), so a checkpoint written on 4 devices restores onto
1, or onto a pod, and a target whose structure or shapes differ from what is stored fails with
an error that names the first mismatch.
"""
from __future__ import annotations

import pathlib
from typing import Any

import jax
import numpy as np
import orbax.checkpoint as ocp
from orbax.checkpoint import checkpoint_managers


class CheckpointMismatchError(ValueError):
  """The stored checkpoint does not fit the network or config it is restored into."""


def abstract_like(tree, sharding: jax.sharding.Sharding | None = None):
  """Shape/dtype (and sharding) placeholders of `tree`, the target `restore` expects."""
  def leaf(x):
    x_sharding = sharding or getattr(x, "sharding", None)
    return jax.ShapeDtypeStruct(np.shape(x), x.dtype, sharding=x_sharding)
  return jax.tree.map(leaf, tree)


def _key_names(path) -> tuple:
  """A tree path as plain names: the stored metadata writes dataclass and named-tuple fields as
  dict keys where the live tree has attributes, so paths are compared by name."""
  return tuple(getattr(key, "key", getattr(key, "name", getattr(key, "idx", key)))
               for key in path)


def _describe_mismatch(stored, target) -> str | None:
  stored_paths = {_key_names(p): (p, v)
                  for p, v in jax.tree_util.tree_flatten_with_path(stored)[0]}
  target_paths = {_key_names(p): (p, v)
                  for p, v in jax.tree_util.tree_flatten_with_path(target)[0]}
  missing = [jax.tree_util.keystr(p) for k, (p, _) in target_paths.items()
             if k not in stored_paths]
  extra = [jax.tree_util.keystr(p) for k, (p, _) in stored_paths.items()
           if k not in target_paths]
  if missing or extra:
    return (f"the checkpoint lacks {missing[:5]} and has {extra[:5]} that the target does not")
  for name, (path, value) in target_paths.items():
    stored_shape = tuple(stored_paths[name][1].shape)
    if stored_shape != tuple(value.shape):
      return (f"{jax.tree_util.keystr(path)} is {stored_shape} in the checkpoint but "
              f"{tuple(value.shape)} in the target")
  return None


class Checkpointer:
  """Saves and restores the checkpoints of one run directory."""

  def __init__(self, directory: str | pathlib.Path, *, keep: int = 2,
               best_metric: str | None = None, best_mode: str = "max", keep_best: int = 1):
    self.directory = pathlib.Path(directory).expanduser().resolve()
    policies = [checkpoint_managers.LatestN(keep)]
    if best_metric:
      reverse = best_mode == "min"
      policies.append(checkpoint_managers.BestN(
          get_metric_fn=lambda metrics: metrics[best_metric], reverse=reverse, n=keep_best,
          keep_checkpoints_without_metrics=False))
    options = ocp.CheckpointManagerOptions(
        preservation_policy=checkpoint_managers.AnyPreservationPolicy(policies),
        enable_async_checkpointing=False, create=True)
    self.best_metric, self.best_mode = best_metric, best_mode
    # The handlers are registered up front, so a manager that did not write the checkpoint (a
    # resumed run, an evaluation) can read the stored shapes and name a mismatch.
    registry = ocp.handlers.DefaultCheckpointHandlerRegistry()
    state_handler, meta_handler = ocp.StandardCheckpointHandler(), ocp.JsonCheckpointHandler()
    registry.add("state", ocp.args.StandardSave, state_handler)
    registry.add("state", ocp.args.StandardRestore, state_handler)
    registry.add("meta", ocp.args.JsonSave, meta_handler)
    registry.add("meta", ocp.args.JsonRestore, meta_handler)
    self._manager = ocp.CheckpointManager(self.directory, options=options,
                                          handler_registry=registry)

  def latest_step(self) -> int | None:
    return self._manager.latest_step()

  def all_steps(self) -> list[int]:
    return list(self._manager.all_steps())

  def best_step(self) -> int | None:
    """The step with the best `best_metric` among those saved with metrics."""
    if not self.best_metric:
      return None
    scored = []
    for step in self.all_steps():
      meta = self.read_meta(step)
      value = (meta.get("metrics") or {}).get(self.best_metric)
      if value is not None:
        scored.append((value, step))
    if not scored:
      return None
    return (max if self.best_mode == "max" else min)(scored)[1]

  def save(self, step: int, state, meta: dict[str, Any], metrics: dict[str, float] | None = None,
           ) -> None:
    if metrics is not None:
      meta = {**meta, "metrics": {k: float(v) for k, v in metrics.items()}}
    self._manager.save(step, args=ocp.args.Composite(
        state=ocp.args.StandardSave(state), meta=ocp.args.JsonSave(meta)),
        metrics=None if metrics is None else {k: float(v) for k, v in metrics.items()},
        force=True)
    self._manager.wait_until_finished()

  def read_meta(self, step: int) -> dict[str, Any]:
    return self._manager.restore(step, args=ocp.args.Composite(meta=ocp.args.JsonRestore()))["meta"]

  def resolve_step(self, which: str | int | None) -> int:
    """'latest' (or None), 'best', or a step number → a saved step; a clear error otherwise."""
    steps = self.all_steps()
    if not steps:
      raise FileNotFoundError(f"no checkpoint in {self.directory}")
    if which in (None, "latest"):
      return max(steps)
    if which == "best":
      best = self.best_step()
      if best is None:
        raise FileNotFoundError(f"no checkpoint with metric {self.best_metric!r} in {self.directory}")
      return best
    step = int(which)
    if step not in steps:
      raise FileNotFoundError(f"no checkpoint at step {step} in {self.directory}; saved: {steps}")
    return step

  def restore(self, abstract_state, step: str | int | None = "latest"):
    """(state, meta) of a saved step, placed after the shardings of `abstract_state`."""
    step = self.resolve_step(step)
    stored = self._manager.item_metadata(step)["state"]
    problem = _describe_mismatch(stored, abstract_state) if stored is not None else None
    if problem:
      raise CheckpointMismatchError(
          f"checkpoint {self.directory} step {step} does not fit this network/config: {problem}")
    restored = self._manager.restore(step, args=ocp.args.Composite(
        state=ocp.args.StandardRestore(abstract_state), meta=ocp.args.JsonRestore()))
    return restored["state"], restored["meta"]

  def close(self) -> None:
    self._manager.wait_until_finished()
    self._manager.close()
