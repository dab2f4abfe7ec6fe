"""Progress a person can read: a bar on a terminal, a line every `every` of an epoch otherwise.

    progress = Progress(epochs=12, steps_per_epoch=50, done_steps=0, enabled=True)
    with progress.compiling("the weight step"):    # 'compiling the weight step…' … 'compiled in 38 s'
      ...
    progress.start_epoch(epoch=0, step_in_epoch=0)
    progress.update(step_in_epoch=10, postfix={"loss": 0.41})   # at logging steps
    progress.end_epoch()

The ETA is the whole run's: the mean time of the steps done since the first one (compilation
excluded) times the steps left in every epoch (WORKSPACE.md, Runs).
"""

from __future__ import annotations

import contextlib
import sys
import time

import tqdm


def format_seconds(seconds: float) -> str:
  """'42 s', '3 min 05 s', '2 h 07 min'."""
  seconds = max(0.0, float(seconds))
  if seconds < 60:
    return f"{seconds:.0f} s"
  if seconds < 3600:
    return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"
  return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"


class Progress:
  """The progress of one run's epochs (module docstring)."""

  def __init__(
    self,
    *,
    epochs: int,
    steps_per_epoch: int,
    done_steps: int,
    enabled: bool,
    stream=None,
    every: float = 0.25,
  ):
    self.epochs, self.steps_per_epoch = epochs, steps_per_epoch
    self.enabled = enabled
    self.stream = stream or sys.stderr
    self.terminal = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
    self.every = max(1, int(round(steps_per_epoch * every)))
    self._done = done_steps  # steps of the whole run done
    self._timed_steps, self._timed_s, self._last = 0, 0.0, None
    self._bar, self._epoch, self._next_line = None, 0, 0

  @contextlib.contextmanager
  def compiling(self, what: str):
    """Says that XLA compiles `what` (the bar would sit at 0 meanwhile) and how long it took."""
    start = time.perf_counter()
    if self.enabled:
      print(f"compiling {what}…", file=self.stream, flush=True)
    yield
    if self.enabled:
      print(
        f"compiled {what} in {format_seconds(time.perf_counter() - start)}",
        file=self.stream,
        flush=True,
      )

  def eta(self) -> float | None:
    """Seconds left in the run, from the mean time of the timed steps."""
    if not self._timed_steps:
      return None
    left = self.epochs * self.steps_per_epoch - self._done
    return left * self._timed_s / self._timed_steps

  def start_epoch(self, epoch: int, step_in_epoch: int) -> None:
    self._epoch, self._last = epoch, None
    self._next_line = (step_in_epoch // self.every + 1) * self.every
    if self.terminal:
      self._bar = tqdm.tqdm(
        total=self.steps_per_epoch,
        initial=step_in_epoch,
        desc=f"epoch {epoch + 1}/{self.epochs}",
        leave=False,
        file=self.stream,
        dynamic_ncols=True,
      )

  def step_done(self, step_in_epoch: int, *, timed: bool) -> None:
    """One step finished; `timed`: it counts for the ETA (not the first, compiling, one)."""
    now = time.perf_counter()
    if timed and self._last is not None:
      self._timed_steps += 1
      self._timed_s += now - self._last
    self._last = now
    self._done += 1
    if self._bar is not None:
      self._bar.update(1)

  def update(self, step_in_epoch: int, postfix: dict[str, float]) -> None:
    """At a logging step: the bar's postfix, or a line when another `every` steps are done."""
    if not self.enabled:
      return
    eta = self.eta()
    text = {name: f"{value:.3f}" for name, value in postfix.items()}
    if eta is not None:
      text["run ETA"] = format_seconds(eta)
    if self._bar is not None:
      self._bar.set_postfix(text, refresh=True)
    elif step_in_epoch >= self._next_line or step_in_epoch == self.steps_per_epoch:
      while self._next_line <= step_in_epoch:
        self._next_line += self.every
      print(
        f"epoch {self._epoch + 1}/{self.epochs} step {step_in_epoch}/{self.steps_per_epoch}"
        + "".join(f", {name} {value}" for name, value in text.items()),
        file=self.stream,
        flush=True,
      )

  def end_epoch(self) -> None:
    if self._bar is not None:
      self._bar.close()
      self._bar = None
