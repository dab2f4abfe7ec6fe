"""Metrics of a run, written as JSON lines and as TensorBoard events (tensorboardX, no TensorFlow).

    log = MetricsLog(workdir)
    log.write(step, {"train/loss": 0.31, "arch/entropy": 2.1})
    log.close()

`metrics.jsonl` has one object per call: {"step": ..., "time": ..., **metrics}; `read` returns
them, for plots and tests. Only process 0 writes, so a pod run keeps one log. A write that
fails (full disk, unwritable workdir) is a `storage.StorageError`: one line naming the file.
"""

from __future__ import annotations

import json
import pathlib
import time
from typing import Any

import jax
import numpy as np

from fakenas_jax import storage

JSONL = "metrics.jsonl"


_ACTION = "run the same command again (it resumes from the last checkpoint)"


def _scalar(value: Any) -> float:
  return float(np.asarray(value))


class MetricsLog:
  def __init__(self, workdir: str | pathlib.Path, tensorboard: bool = True):
    self.path = pathlib.Path(workdir) / JSONL
    self._active = jax.process_index() == 0
    self._tensorboard = None
    if self._active:
      try:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if tensorboard:
          from tensorboardX import SummaryWriter

          self._tensorboard = SummaryWriter(str(self.path.parent / "tensorboard"))
      except OSError as error:
        raise storage.storage_error(
          error, self.path.parent / "tensorboard", action=_ACTION
        ) from None

  def write(self, step: int, metrics: dict[str, Any]) -> None:
    if not self._active:
      return
    values = {name: _scalar(value) for name, value in metrics.items()}
    try:
      with self.path.open("a") as stream:
        stream.write(json.dumps({"step": int(step), "time": time.time(), **values}) + "\n")
      if self._tensorboard is not None:
        for name, value in values.items():
          self._tensorboard.add_scalar(name, value, int(step))
        self._tensorboard.flush()
    except OSError as error:
      raise storage.storage_error(error, self.path, action=_ACTION) from None

  def close(self) -> None:
    if self._tensorboard is not None:
      self._tensorboard.close()


def read(workdir: str | pathlib.Path) -> list[dict[str, float]]:
  path = pathlib.Path(workdir) / JSONL
  if not path.exists():
    return []
  return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
