"""Programs compiled in a background thread before they are needed (WORKSPACE.md, Compile ahead).

    weight_step = compile_ahead.Program(jax.jit(make_weight_step(...)), "weight step")
    weight_step.compile_ahead(state_spec, batch_spec, rng_spec, inputs_spec)   # returns at once
    ...                                       # other steps run meanwhile
    state, metrics = weight_step(state, batch, rng, inputs)   # the compiled program, no stall

`compile_ahead` lowers and compiles the jitted function for abstract arguments (`spec_of`:
shape, dtype and sharding of each array) in one worker thread shared by the process; XLA's
compilation runs outside the GIL, so while the main thread steps, the compile takes a spare
core instead of a stall. A call waits for its pending compile (never compiling twice) and then
runs the executable; arguments whose shapes or shardings differ from the spec go through the
jitted function as usual (it compiles on first use), counted in `Program.fallbacks`.
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
from typing import Any, Callable

import jax
from absl import logging

_EXECUTOR: concurrent.futures.ThreadPoolExecutor | None = None
_LOCK = threading.Lock()


def _executor() -> concurrent.futures.ThreadPoolExecutor:
  global _EXECUTOR
  with _LOCK:
    if _EXECUTOR is None:
      _EXECUTOR = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="compile_ahead")
    return _EXECUTOR


def spec_of(tree: Any) -> Any:
  """The abstract twin of `tree`: each array as `jax.ShapeDtypeStruct` with its sharding."""

  def spec(x):
    if isinstance(x, jax.ShapeDtypeStruct):
      return x
    return jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=getattr(x, "sharding", None))

  return jax.tree.map(spec, tree)


def with_sharding(tree: Any, sharding) -> Any:
  """`spec_of(tree)` with every leaf placed by `sharding` (e.g. replicated on the mesh)."""
  return jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=sharding), tree)


class Program:
  """A jitted function that can be compiled ahead of its first call (module docstring)."""

  def __init__(self, jitted: Callable, name: str):
    self.jitted, self.name = jitted, name
    self._compiled: dict[tuple, Any] = {}
    self._pending: dict[tuple, concurrent.futures.Future] = {}
    self.fallbacks = 0
    self.compile_seconds: dict[tuple, float] = {}

  @staticmethod
  def _key(static: dict) -> tuple:
    return tuple(sorted(static.items()))

  def compile_ahead(self, *specs, **static) -> concurrent.futures.Future | None:
    """Starts compiling for `specs` (abstract positional arguments) and `static` keyword
    arguments; None when that program is compiled or compiling already."""
    key = self._key(static)
    if key in self._compiled or key in self._pending:
      return None

    def work():
      start = time.perf_counter()
      compiled = self.jitted.lower(*specs, **static).compile()
      self.compile_seconds[key] = time.perf_counter() - start
      return compiled

    self._pending[key] = _executor().submit(work)
    return self._pending[key]

  @property
  def pending(self) -> bool:
    return any(not future.done() for future in self._pending.values())

  def ready(self, **static) -> bool:
    """Whether a call with `static` runs an executable compiled ahead (after waiting)."""
    key = self._key(static)
    return key in self._compiled or key in self._pending

  def wait(self) -> None:
    """Waits for every pending compile of this program; re-raises its error."""
    for key in list(self._pending):
      self._compiled[key] = self._pending.pop(key).result()

  def cancel(self) -> None:
    """Drops compiles that have not started (a finished run needs them no more)."""
    for key, future in list(self._pending.items()):
      if future.cancel():
        del self._pending[key]

  def __call__(self, *args, **static):
    key = self._key(static)
    if key in self._pending:
      self._compiled[key] = self._pending.pop(key).result()
    compiled = self._compiled.get(key)
    if compiled is not None:
      try:
        return compiled(*args)
      except (TypeError, ValueError) as error:  # raised before running: other shapes/shardings
        del self._compiled[key]
        self.fallbacks += 1
        logging.warning("%s: arguments differ from the compiled-ahead ones (%s)", self.name, error)
    return self.jitted(*args, **static)
