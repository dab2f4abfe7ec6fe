"""Orbax checkpoints of a run: the array state and a JSON record beside it.

Every checkpoint step holds two items: `state` (any pytree of arrays — weights, optimiser
states, α/β, RNG keys as raw key data) and `meta` (JSON: the search state machine, the data
iterator's state, the epoch, …). `restore` reads them back against an abstract target
(`jax.ShapeDtypeStruct`s carrying shardings), so a checkpoint written on 4 devices restores onto
1, or onto a pod, and a target whose structure or shapes differ from what is stored fails with
an error that names the first mismatch.

Damaged checkpoints (a truncated `meta` JSON, a truncated or missing array file: a disk that
filled up, a copy cut short) are met step by step: `restore('latest')` reads the newest step
and, when it cannot be read, warns naming the step and the file and falls back to the next
newest (`'best'` to the next best); an explicit step does not fall back. Every read error is a
`CheckpointCorruptError` naming the file and the step. `metrics_index.json` (rewritten
atomically at each save) holds per step its metrics and the size and SHA-256 of every file
written: a step is validated against it before Orbax reads anything, and `best` is found from
it without reading any step's meta. Runs without the index (older runs) read the metas,
skipping unreadable ones with a warning, and rely on Orbax's own read errors.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import re
from typing import Any

import jax
import numpy as np
import orbax.checkpoint as ocp
from absl import logging
from orbax.checkpoint import checkpoint_managers

INDEX_FILE = "metrics_index.json"


class CheckpointError(ValueError):
  """A checkpoint that cannot be used (a one-line message naming directory and step)."""


class CheckpointMismatchError(CheckpointError):
  """The stored checkpoint does not fit the network or config it is restored into."""


class CheckpointCorruptError(CheckpointError):
  """A checkpoint step whose files cannot be read (truncated, missing, not what Orbax wrote)."""

  def __init__(self, message: str, *, step: int | None = None, path: str | None = None):
    super().__init__(message)
    self.step, self.path = step, path


def _sha256(path: pathlib.Path) -> str:
  digest = hashlib.sha256()
  with open(path, "rb") as handle:
    for block in iter(lambda: handle.read(1 << 20), b""):
      digest.update(block)
  return digest.hexdigest()


def _file_digests(step_dir: pathlib.Path) -> dict[str, list]:
  """Every file of a written step: relative path → [size, SHA-256]."""
  return {
    path.relative_to(step_dir).as_posix(): [path.stat().st_size, _sha256(path)]
    for path in sorted(step_dir.rglob("*"))
    if path.is_file()
  }


def _first_line(error: BaseException) -> str:
  text = str(error).strip().splitlines()
  return f"{type(error).__name__}: {text[0][:300]}" if text else type(error).__name__


def _damaged_file(error: BaseException, item_dir: pathlib.Path) -> str:
  """The file an Orbax/TensorStore read error is about (the deepest path of the item its
  message names), or the item's directory."""
  named = [match.group(1).rstrip(".:") for match in re.finditer(r"(/[^\s\"'\]\[,]+)", str(error))]
  inside = [
    path for path in named if path.startswith(str(item_dir)) and pathlib.Path(path).is_file()
  ]
  return max(inside, key=len) if inside else str(item_dir)


def abstract_like(tree, sharding: jax.sharding.Sharding | None = None):
  """Shape/dtype (and sharding) placeholders of `tree`, the target `restore` expects."""

  def leaf(x):
    x_sharding = sharding or getattr(x, "sharding", None)
    return jax.ShapeDtypeStruct(np.shape(x), x.dtype, sharding=x_sharding)

  return jax.tree.map(leaf, tree)


def _key_names(path) -> tuple:
  """A tree path as plain names: the stored metadata writes dataclass and named-tuple fields as
  dict keys where the live tree has attributes, so paths are compared by name."""
  return tuple(getattr(key, "key", getattr(key, "name", getattr(key, "idx", key))) for key in path)


def _describe_mismatch(stored, target) -> str | None:
  stored_paths = {_key_names(p): (p, v) for p, v in jax.tree_util.tree_flatten_with_path(stored)[0]}
  target_paths = {_key_names(p): (p, v) for p, v in jax.tree_util.tree_flatten_with_path(target)[0]}
  missing = [jax.tree_util.keystr(p) for k, (p, _) in target_paths.items() if k not in stored_paths]
  extra = [jax.tree_util.keystr(p) for k, (p, _) in stored_paths.items() if k not in target_paths]
  if missing or extra:
    return f"the checkpoint lacks {missing[:5]} and has {extra[:5]} that the target does not"
  for name, (path, value) in target_paths.items():
    stored_shape = tuple(stored_paths[name][1].shape)
    if stored_shape != tuple(value.shape):
      return (
        f"{jax.tree_util.keystr(path)} is {stored_shape} in the checkpoint but "
        f"{tuple(value.shape)} in the target"
      )
  return None


class Checkpointer:
  """Saves and restores the checkpoints of one run directory."""

  def __init__(
    self,
    directory: str | pathlib.Path,
    *,
    keep: int = 2,
    best_metric: str | None = None,
    best_mode: str = "max",
    keep_best: int = 1,
  ):
    self.directory = pathlib.Path(directory).expanduser().resolve()
    policies = [checkpoint_managers.LatestN(keep)]
    if best_metric:
      reverse = best_mode == "min"
      policies.append(
        checkpoint_managers.BestN(
          get_metric_fn=lambda metrics: metrics[best_metric],
          reverse=reverse,
          n=keep_best,
          keep_checkpoints_without_metrics=False,
        )
      )
    options = ocp.CheckpointManagerOptions(
      preservation_policy=checkpoint_managers.AnyPreservationPolicy(policies),
      enable_async_checkpointing=False,
      create=True,
    )
    self.best_metric, self.best_mode = best_metric, best_mode
    # The handlers are registered up front, so a manager that did not write the checkpoint (a
    # resumed run, an evaluation) can read the stored shapes and name a mismatch.
    registry = ocp.handlers.DefaultCheckpointHandlerRegistry()
    state_handler, meta_handler = ocp.StandardCheckpointHandler(), ocp.JsonCheckpointHandler()
    registry.add("state", ocp.args.StandardSave, state_handler)
    registry.add("state", ocp.args.StandardRestore, state_handler)
    registry.add("meta", ocp.args.JsonSave, meta_handler)
    registry.add("meta", ocp.args.JsonRestore, meta_handler)
    self._manager = ocp.CheckpointManager(
      self.directory, options=options, handler_registry=registry
    )

  def latest_step(self) -> int | None:
    return self._manager.latest_step()

  def all_steps(self) -> list[int]:
    return list(self._manager.all_steps())

  def _read_index(self) -> dict[int, dict[str, Any]] | None:
    """step → {'metrics': {...} | None, 'files': {relative path: [size, sha256]}}."""
    path = self.directory / INDEX_FILE
    if not path.exists():
      return None
    try:
      entries = json.loads(path.read_text())
      return {
        int(step): {"metrics": entry.get("metrics"), "files": dict(entry["files"])}
        for step, entry in entries.items()
      }
    except (OSError, ValueError, TypeError, AttributeError, KeyError) as error:
      logging.warning(
        "%s is unreadable (%s); reading the metrics of each step instead", path, _first_line(error)
      )
      return None

  def _write_index(self, step: int, metrics: dict[str, float] | None) -> None:
    index = self._read_index() or {}
    index[step] = {"metrics": metrics, "files": _file_digests(self.directory / str(step))}
    kept = set(self.all_steps())
    text = json.dumps({str(s): e for s, e in sorted(index.items()) if s in kept})
    temporary = self.directory / f".{INDEX_FILE}.tmp"
    temporary.write_text(text)
    os.replace(temporary, self.directory / INDEX_FILE)

  def validate(self, step: int) -> None:
    """Raises `CheckpointCorruptError` naming the first file of `step` whose size or SHA-256
    differs from what was written (steps saved before the index: nothing to compare)."""
    entry = (self._read_index() or {}).get(step)
    if entry is None:
      return
    step_dir = self.directory / str(step)
    for relative, (size, digest) in sorted(entry["files"].items()):
      path = step_dir / relative
      problem = None
      if not path.is_file():
        problem = "missing"
      elif path.stat().st_size != size:
        problem = f"{path.stat().st_size} bytes where {size} were written (truncated?)"
      elif _sha256(path) != digest:
        problem = "its contents changed since it was written (checksum)"
      if problem:
        raise CheckpointCorruptError(
          f"checkpoint step {step} in {self.directory}: {path} is damaged ({problem})",
          step=step,
          path=str(path),
        )

  def ranked_steps(self) -> list[int]:
    """Steps saved with `best_metric`, best first."""
    if not self.best_metric:
      return []
    index = self._read_index() or {}
    scored = []
    for step in self.all_steps():
      if step in index:
        metrics = index[step]["metrics"] or {}
      else:
        try:
          metrics = self.read_meta(step).get("metrics") or {}
        except CheckpointCorruptError as error:
          logging.warning("%s; step %d is left out of 'best'", error, step)
          continue
      value = metrics.get(self.best_metric)
      if value is not None:
        scored.append((float(value), step))
    scored.sort(reverse=self.best_mode == "max")  # ties: the later step ('max'), the earlier
    return [step for _, step in scored]

  def best_step(self) -> int | None:
    """The step with the best `best_metric` among those saved with metrics."""
    ranked = self.ranked_steps()
    return ranked[0] if ranked else None

  def save(
    self,
    step: int,
    state,
    meta: dict[str, Any],
    metrics: dict[str, float] | None = None,
  ) -> None:
    if metrics is not None:
      meta = {**meta, "metrics": {k: float(v) for k, v in metrics.items()}}
    self._manager.save(
      step,
      args=ocp.args.Composite(state=ocp.args.StandardSave(state), meta=ocp.args.JsonSave(meta)),
      metrics=None if metrics is None else {k: float(v) for k, v in metrics.items()},
      force=True,
    )
    self._manager.wait_until_finished()
    if jax.process_index() == 0:  # one writer of the shared index on a pod
      self._write_index(
        step, None if metrics is None else {k: float(v) for k, v in metrics.items()}
      )

  def read_meta(self, step: int) -> dict[str, Any]:
    """The JSON record of `step`; a `CheckpointCorruptError` naming its file when unreadable."""
    item_dir = self.directory / str(step) / "meta"
    try:
      meta = self._manager.restore(step, args=ocp.args.Composite(meta=ocp.args.JsonRestore()))
      meta = meta["meta"]
    except Exception as error:  # noqa: BLE001 — JSON, OSError, Orbax: all mean "cannot read"
      path = item_dir / "metadata"
      raise CheckpointCorruptError(
        f"checkpoint step {step} in {self.directory}: cannot read {path} ({_first_line(error)})",
        step=step,
        path=str(path),
      ) from None
    if not isinstance(meta, dict):
      raise CheckpointCorruptError(
        f"checkpoint step {step} in {self.directory}: {item_dir / 'metadata'} is not a JSON object",
        step=step,
        path=str(item_dir / "metadata"),
      )
    return meta

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
        raise FileNotFoundError(
          f"no checkpoint with metric {self.best_metric!r} in {self.directory}"
        )
      return best
    step = int(which)
    if step not in steps:
      raise FileNotFoundError(f"no checkpoint at step {step} in {self.directory}; saved: {steps}")
    return step

  def _restore_step(self, abstract_state, step: int):
    state_dir = self.directory / str(step) / "state"
    self.validate(step)
    try:
      stored = self._manager.item_metadata(step)["state"]
    except Exception as error:  # noqa: BLE001
      path = _damaged_file(error, state_dir)
      raise CheckpointCorruptError(
        f"checkpoint step {step} in {self.directory}: cannot read the array metadata {path} "
        f"({_first_line(error)})",
        step=step,
        path=path,
      ) from None
    problem = _describe_mismatch(stored, abstract_state) if stored is not None else None
    if problem:
      raise CheckpointMismatchError(
        f"checkpoint {self.directory} step {step} does not fit this network/config: {problem}"
      )
    meta = self.read_meta(step)
    try:
      restored = self._manager.restore(
        step, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract_state))
      )
    except Exception as error:  # noqa: BLE001 — TensorStore/OCDBT errors of damaged files
      path = _damaged_file(error, state_dir)
      raise CheckpointCorruptError(
        f"checkpoint step {step} in {self.directory}: cannot read the arrays in {path} "
        f"({_first_line(error)})",
        step=step,
        path=path,
      ) from None
    return restored["state"], meta

  def restore(self, abstract_state, step: str | int | None = "latest"):
    """(state, meta) of a saved step, placed after the shardings of `abstract_state`.

    'latest' and 'best' fall back, with a warning naming the damaged step and file, to the
    next newest (next best) readable step; an explicit step does not.
    """
    first = self.resolve_step(step)
    if step in (None, "latest"):
      candidates = sorted(self.all_steps(), reverse=True)
    elif step == "best":
      candidates = self.ranked_steps()
    else:
      candidates = [first]
    failures = []
    for index, candidate in enumerate(candidates):
      try:
        result = self._restore_step(abstract_state, candidate)
      except CheckpointCorruptError as error:
        failures.append(error)
        if index + 1 < len(candidates):
          logging.warning("%s; falling back to step %d", error, candidates[index + 1])
        continue
      return result
    if len(failures) == 1:
      raise failures[0]
    raise CheckpointCorruptError(
      f"no readable checkpoint in {self.directory}: "
      + "; ".join(f"step {f.step}: {f.path}" for f in failures)
      + ". Remove the damaged step directories (or the workdir) to start afresh",
      step=failures[0].step,
      path=failures[0].path,
    )

  def close(self) -> None:
    self._manager.wait_until_finished()
    self._manager.close()
