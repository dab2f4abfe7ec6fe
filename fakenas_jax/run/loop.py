"""The one epoch loop of searches and trainings: resume, SIGTERM, NaN stop, progress, checkpoints.

    run = loop.run_epochs(task, workdir, epochs=config.epochs, steps_per_epoch=n,
                          progress=config.progress, log_every=config.log_every)

A `Task` is what differs (`nas.search.SearchTask`: the bilevel or meta step, and at the end of
an epoch estimate → derive the genotype → prune → regrow; `training.trainer.TrainTask`: the
train step and validation). The loop owns the rest (WORKSPACE.md, Runs):

* the run state (`RunState`: epochs done, steps done in the epoch, the epoch's metric sums,
  the data iterators' positions, the history, the task's own bookkeeping), checkpointed with
  the task's arrays after every epoch, numbered by steps done;
* resume from the latest checkpoint, the history files rewritten from the checkpoint's
  history (so `history.json`, `metrics.jsonl` and TensorBoard always match it);
* SIGTERM (main thread only): a checkpoint after the step in flight, then `Interrupted`;
* step metrics fetched from the device every `log_every` steps, not every step, then summed
  on the host in step order; a non-finite loss stops the run with the true state of the
  checkpoints in the message, a loss grown 1000-fold warns once;
* progress (`progress.Progress`), the epoch line, process-0-only writes.
"""

from __future__ import annotations

import dataclasses
import pathlib
import shutil
import signal
import sys
import threading
import time
from typing import Any, Protocol

import jax
import numpy as np

from fakenas_jax import checkpoints, errors, metrics_log
from fakenas_jax.run import progress as progress_lib

DIVERGENCE_FACTOR = 1000.0


@dataclasses.dataclass
class RunState:
  """What a checkpoint's `meta` holds besides the task's arrays."""

  epoch: int = 0  # epochs completed
  step_in_epoch: int = 0  # steps of the current epoch done (non-zero after SIGTERM)
  sums: dict = dataclasses.field(default_factory=dict)  # metric sums of the current epoch
  positions: dict = dataclasses.field(default_factory=dict)  # data iterators' states
  history: list = dataclasses.field(default_factory=list)  # one record per epoch
  extra: dict = dataclasses.field(default_factory=dict)  # the task's own bookkeeping

  @property
  def steps_done(self) -> int:
    return self._steps_per_epoch * self.epoch + self.step_in_epoch

  _steps_per_epoch: int = dataclasses.field(default=1, repr=False, compare=False)

  def meta(self) -> dict:
    return {
      f.name: getattr(self, f.name) for f in dataclasses.fields(self) if not f.name.startswith("_")
    }


class Task(Protocol):
  """What a run does; the loop calls these in this order (module docstring)."""

  def restore_target(self, meta: dict) -> Any:
    """The abstract arrays of a checkpoint with `meta` (the task may rebuild its network)."""

  def carry(self) -> Any:
    """The arrays to checkpoint now."""

  def load(self, carry: Any, run: RunState) -> None:
    """Takes the restored arrays."""

  def start(self, run: RunState) -> None:
    """Opens the data iterators at `run.positions`; compiles what the first step needs."""

  def positions(self) -> dict:
    """The data iterators' states (for the checkpoint)."""

  def begin_epoch(self, run: RunState) -> None:
    """Before the first step of an epoch (also of a resumed, part-done epoch)."""

  def step(self, run: RunState) -> dict[str, jax.Array]:
    """One step at (run.epoch, run.step_in_epoch); returns its metrics (device scalars)."""

  def end_epoch(self, run: RunState, metrics: dict[str, float]) -> dict:
    """After the epoch's last step: the history record (`epoch` is set by the loop)."""

  def should_stop(self, run: RunState) -> bool:
    """Whether to stop before the next epoch (a search's early-stopping guard)."""

  def checkpoint_metrics(self, record: dict) -> dict[str, float] | None:
    """The metrics the checkpoint keeps (the best checkpoint's), or None."""

  def write_results(self, run: RunState) -> None:
    """Process 0: files that show the history (history.json, plots); also on resume."""

  def describe(self, record: dict) -> str:
    """The epoch line's metrics."""


class StateTask:
  """The checkpointed arrays of a task that keeps a `state` pytree and an `rng` key, placed
  with `self.replicated` (search and training both)."""

  def carry(self):
    return {"state": self.state, "rng": jax.random.key_data(self.rng)}

  def load(self, carry, run: RunState) -> None:
    self.state, self.rng = carry["state"], jax.random.wrap_key_data(carry["rng"])

  def restore_target(self, meta: dict):
    return checkpoints.abstract_like(self.carry(), self.replicated)

  def place_state(self) -> None:
    """The state and the key on the mesh, through the host: every process holds the same
    values, and a multi-host mesh takes them (and Orbax can write them)."""
    self.state = jax.device_put(jax.device_get(self.state), self.replicated)
    key_data = np.asarray(jax.random.key_data(self.rng))
    self.rng = jax.random.wrap_key_data(
      jax.device_put(key_data, self.replicated), impl=jax.random.key_impl(self.rng)
    )


def _signal_flag():
  """A flag SIGTERM sets (main thread only: signals cannot be handled elsewhere)."""
  flag = {"set": False}
  if threading.current_thread() is not threading.main_thread():
    return flag, lambda: None
  previous = signal.signal(signal.SIGTERM, lambda *_: flag.update(set=True))
  return flag, lambda: signal.signal(signal.SIGTERM, previous)


def rewrite_logs(workdir: pathlib.Path, history: list[dict]) -> None:
  """`metrics.jsonl` and TensorBoard rebuilt from `history`: nothing stale, no duplicates."""
  (workdir / metrics_log.JSONL).unlink(missing_ok=True)
  shutil.rmtree(workdir / "tensorboard", ignore_errors=True)
  if not history:
    return
  log = metrics_log.MetricsLog(workdir)
  try:
    for record in history:
      log.write(record["epoch"], _loggable(record))
  finally:
    log.close()


def _loggable(record: dict) -> dict[str, float]:
  return {
    name: value
    for name, value in record.items()
    if name not in ("epoch", "step")
    and isinstance(value, (int, float))
    and not isinstance(value, bool)
  }


def non_finite_message(
  task_name: str, epoch: int, step: int, loss: float, ckpt: checkpoints.Checkpointer
) -> str:
  """What stopped and which checkpoint is kept: the true state of the workdir."""
  latest = ckpt.latest_step()
  where = f"non-finite loss ({loss}) at epoch {epoch + 1}, step {step} of the {task_name}"
  if latest is None:
    kept = (
      "; no checkpoint was written yet, so nothing is kept: fix the config and re-run "
      "(the run starts afresh)"
    )
  else:
    kept = (
      f"; the last good checkpoint, step {latest}, is kept in {ckpt.directory}: re-running "
      "resumes from it"
    )
  return where + kept + ". Lower optimizer.learning_rate or set optimizer.grad_clip_norm"


def run_epochs(
  task: Task,
  workdir: str | pathlib.Path,
  *,
  name: str,
  epochs: int,
  steps_per_epoch: int,
  progress: bool = True,
  log_every: int = 10,
  stop_after_epochs: int | None = None,
  checkpoint_keep: int = 2,
  best_metric: str | None = None,
  best_mode: str = "max",
  progress_stream=None,
) -> RunState:
  """Runs (or resumes) `task` for `epochs` epochs of `steps_per_epoch` steps (module docstring)."""
  workdir = pathlib.Path(workdir)
  writer = jax.process_index() == 0
  run = RunState(_steps_per_epoch=steps_per_epoch)
  ckpt = checkpoints.Checkpointer(
    workdir / "checkpoints", keep=checkpoint_keep, best_metric=best_metric, best_mode=best_mode
  )
  try:
    latest = ckpt.latest_step()
    if latest is not None:
      meta = ckpt.read_meta(latest)
      carry, meta = ckpt.restore(task.restore_target(meta), "latest")
      run = RunState(
        **{key: meta[key] for key in RunState().meta()}, _steps_per_epoch=steps_per_epoch
      )
      task.load(carry, run)
      if writer:
        rewrite_logs(workdir, run.history)
        if run.history:
          task.write_results(run)
    elif writer:
      rewrite_logs(workdir, [])
    task.start(run)
    bar = progress_lib.Progress(
      epochs=epochs,
      steps_per_epoch=steps_per_epoch,
      done_steps=run.steps_done,
      enabled=progress and writer,
      stream=progress_stream,
    )
    flag, restore_signal = _signal_flag()
    log = metrics_log.MetricsLog(workdir)
    reference_loss: list[float] = []  # the first logged loss of this process: divergence
    first_step = [True]
    timing = {"first_step_s": None, "timed_s": 0.0, "timed_steps": 0}

    def save():
      if ckpt.latest_step() == run.steps_done:
        return
      run.positions = task.positions()
      record = run.history[-1] if run.history and run.step_in_epoch == 0 else None
      metrics = task.checkpoint_metrics(record) if record is not None else None
      finite = {k: v for k, v in (metrics or {}).items() if np.isfinite(v)}
      ckpt.save(run.steps_done, task.carry(), run.meta(), metrics=finite or None)

    pending: list[dict] = []

    def flush():
      """Fetches the pending steps' metrics, checks them, adds them to the epoch's sums."""
      if not pending:
        return
      fetched = jax.device_get(pending)
      first = run.step_in_epoch - len(fetched)
      for offset, metrics in enumerate(fetched):
        loss = float(metrics["loss"])
        if not np.isfinite(loss):
          raise errors.NonFiniteLossError(
            non_finite_message(name, run.epoch, first + offset + 1, loss, ckpt)
          )
        if not reference_loss:
          reference_loss.append(abs(loss) or 1e-12)
        elif abs(loss) > DIVERGENCE_FACTOR * reference_loss[0] and len(reference_loss) == 1:
          reference_loss.append(loss)
          print(
            f"warning: the {name}'s loss grew from {reference_loss[0]:.4g} to {loss:.4g} "
            f"(epoch {run.epoch + 1}, step {first + offset + 1}): it is diverging; lower "
            "optimizer.learning_rate",
            file=sys.stderr,
            flush=True,
          )
        for metric, value in metrics.items():
          run.sums[metric] = run.sums.get(metric, 0.0) + float(value)
      pending.clear()
      last = fetched[-1]
      bar.update(
        run.step_in_epoch,
        {k: float(v) for k, v in last.items() if k in ("loss", "accuracy", "arch_entropy")},
      )

    last_epoch = epochs if stop_after_epochs is None else min(epochs, run.epoch + stop_after_epochs)
    try:
      while run.epoch < last_epoch and not task.should_stop(run):
        task.begin_epoch(run)
        bar.start_epoch(run.epoch, run.step_in_epoch)
        epoch_start = time.perf_counter()
        while run.step_in_epoch < steps_per_epoch:
          if flag["set"]:
            flush()
            raise errors.Interrupted
          step_start = time.perf_counter()
          if first_step[0]:
            with bar.compiling(f"the {name} step"):
              metrics = task.step(run)
              jax.block_until_ready(metrics)
            first_step[0] = False
            timing["first_step_s"] = time.perf_counter() - step_start  # compile included
            timed = False
          else:
            metrics = task.step(run)
            timed = True
          pending.append(metrics)
          run.step_in_epoch += 1
          if len(pending) >= log_every or run.step_in_epoch == steps_per_epoch:
            flush()
          if timed:
            timing["timed_s"] += time.perf_counter() - step_start
            timing["timed_steps"] += 1
          bar.step_done(run.step_in_epoch, timed=timed)
        bar.end_epoch()
        means = {f"train/{k}": v / steps_per_epoch for k, v in run.sums.items()}
        means["time/epoch_s"] = time.perf_counter() - epoch_start
        if timing["first_step_s"] is not None:
          means["time/first_step_s"] = timing["first_step_s"]  # once a process
          timing["first_step_s"] = None
        if timing["timed_steps"]:
          means["time/steps_per_s"] = timing["timed_steps"] / timing["timed_s"]
          timing["timed_s"], timing["timed_steps"] = 0.0, 0
        run.epoch, run.step_in_epoch, run.sums = run.epoch + 1, 0, {}
        record = {"epoch": run.epoch, **task.end_epoch(run, means)}
        run.history.append(record)
        log.write(run.epoch, _loggable(record))
        save()
        if writer:
          task.write_results(run)
          if progress:
            print(f"epoch {run.epoch}/{epochs}: {task.describe(record)}", flush=True)
    except errors.Interrupted:
      save()
      raise
    finally:
      restore_signal()
      log.close()
  finally:
    ckpt.close()
  return run


def best_record(workdir: str | pathlib.Path, best_metric: str, best_mode: str) -> dict | None:
  """{'step', 'epoch', best_metric} of the best checkpoint of a finished run, or None."""
  ckpt = checkpoints.Checkpointer(
    pathlib.Path(workdir) / "checkpoints", best_metric=best_metric, best_mode=best_mode
  )
  try:
    step = ckpt.best_step()
    if step is None:
      return None
    meta = ckpt.read_meta(step)
  finally:
    ckpt.close()
  return {"step": step, "epoch": meta["epoch"], best_metric: meta["metrics"][best_metric]}
