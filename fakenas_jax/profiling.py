"""Where a compiled program spends its time: a profiler trace, summed per HLO instruction.

`breakdown(compiled, args, steps, trace_dir)` runs a compiled (``jit(...).lower(...).compile()``)
program `steps` times under `jax.profiler.trace`, reads the trace back (`jax.profiler.ProfileData`)
and sums the durations of the XLA:CPU thunks (one event per executed HLO instruction, inside
while loops too) three ways:

* by **kind** — the instruction's name without its number (``ynn_fusion``: a dot or convolution
  handed to YNNPACK; ``copy_bitcast_fusion``: a layout change, i.e. a transpose; ``while``: a
  loop's own bookkeeping; …);
* by **module** — the Flax module path in the instruction's ``op_name`` metadata, cell indices
  folded (``cell*/edges_in/sep_conv_3x3_d1``), so the cells' repeated parts add up;
* by **pass** — forward or backward (``transpose(`` in the ``op_name``: the VJP); instructions
  XLA made itself (copies, layout changes) carry no ``op_name``.

Times are per step, on all threads together (XLA:CPU runs independent thunks in parallel, so
their sum can exceed the wall time; ``wall_ms`` includes the profiler's own overhead). Used
by ``scripts/benchmark_search.py --profile`` and ``scripts/benchmark_train.py --profile``;
WORKSPACE.md ("The search engine", Speed) reads them.
"""

from __future__ import annotations

import collections
import pathlib
import re
import shutil
import time
from typing import Any, Callable

import jax

_THREAD_LINE = re.compile(r"XLAEigen|XLACpu|XLAPjRtCpu", re.IGNORECASE)
_NOT_THUNKS = ("ThunkExecutor", "SlinkyThreadPool", "ThreadpoolListener", "end: ")
_OP_NAME = re.compile(r'^\s*(?:ROOT\s+)?%?([\w.\-]+) = .*?op_name="([^"]*)"', re.MULTILINE)
_WRAPPERS = re.compile(r"\b(?:jit|jvp|transpose|vmap|pjit|remat|checkpoint|closed_call)\(")
_CELL = re.compile(r"\bcell\d+\b")
_IDENTIFIER = re.compile(r"^[A-Za-z_][\w.]*$")
_LOOP_PARTS = ("while", "body", "cond", "closed_call", "scan")


def module_of(op_name: str, depth: int = 4) -> str:
  """The Flax module path of an HLO ``op_name`` (wrappers, loops and the primitive dropped,
  cell numbers folded): ``…/cell3/edges_in/sep_conv_3x3_d1/sep_conv_3x3_d1._depthwise/…``
  → ``cell*/edges_in/sep_conv_3x3_d1._depthwise``."""
  path = _WRAPPERS.sub("", op_name).replace(")", "")
  modules: list[str] = []
  for part in path.split("/")[1:-1]:  # the jitted function's name, the primitive
    if part in _LOOP_PARTS or not _IDENTIFIER.match(part) or part[0].isupper():
      continue  # loops, einsum specs, the top-level module's class name
    if modules and part.startswith(modules[-1] + "."):
      modules[-1] = part  # a module's method scope replaces the module
    else:
      modules.append(part)
  return _CELL.sub("cell*", "/".join(modules[:depth])) or "(top level)"


def instruction_op_names(hlo_text: str) -> dict[str, str]:
  """{instruction name: op_name metadata} of an optimised HLO module's text."""
  return {name: op for name, op in _OP_NAME.findall(hlo_text)}


def _thunk_events(trace_dir: pathlib.Path):
  files = sorted(trace_dir.glob("**/*.xplane.pb"))
  if not files:
    raise FileNotFoundError(f"the profiler wrote no trace under {trace_dir}")
  data = jax.profiler.ProfileData.from_file(str(files[-1]))
  for plane in data.planes:
    for line in plane.lines:
      if not _THREAD_LINE.search(line.name):
        continue
      for event in line.events:
        if not event.name.startswith(_NOT_THUNKS):
          yield event.name, event.duration_ns / 1e6


def breakdown(
  compiled: Any,
  args: tuple,
  *,
  steps: int = 3,
  trace_dir: str | pathlib.Path,
  run: Callable[..., Any] | None = None,
  depth: int = 4,
) -> dict:
  """Per-step milliseconds of `compiled(*args)` by kind, module and pass (module docstring).

  `run(compiled, *args)` makes one step (default: call it and wait); `depth` is how many levels
  of the module path to keep. Returns {'wall_ms', 'thunk_ms', 'by_kind', 'by_module',
  'by_pass', 'top'} with the tables as [name, ms, share of thunk_ms] rows, largest first.
  """
  run = run or (lambda fn, *a: jax.block_until_ready(fn(*a)))
  trace_dir = pathlib.Path(trace_dir)
  shutil.rmtree(trace_dir, ignore_errors=True)
  run(compiled, *args)  # warm
  start = time.perf_counter()
  with jax.profiler.trace(str(trace_dir)):
    for _ in range(steps):
      run(compiled, *args)
  wall_ms = 1e3 * (time.perf_counter() - start) / steps
  op_names = instruction_op_names(compiled.as_text())
  tables = {key: collections.Counter() for key in ("by_kind", "by_module", "by_pass", "top")}
  for name, ms in _thunk_events(trace_dir):
    op_name = op_names.get(name, "")
    tables["by_kind"][re.sub(r"\.\d+$", "", name)] += ms / steps
    tables["by_module"][module_of(op_name, depth) if op_name else "(no metadata)"] += ms / steps
    phase = "backward" if "transpose(" in op_name else "forward" if op_name else "(no metadata)"
    tables["by_pass"][phase] += ms / steps
    tables["top"][name] += ms / steps
  thunk_ms = sum(tables["by_kind"].values())
  result = {"wall_ms": wall_ms, "thunk_ms": thunk_ms}
  for key, counter in tables.items():
    result[key] = [[k, v, v / thunk_ms if thunk_ms else 0.0] for k, v in counter.most_common()]
  return result


def format_breakdown(result: dict, rows: int = 15) -> str:
  """The tables of `breakdown` as text."""
  lines = [
    f"profile: {result['wall_ms']:.1f} ms a step (wall), {result['thunk_ms']:.1f} ms of thunks "
    "on all threads"
  ]
  for key in ("by_pass", "by_kind", "by_module", "top"):
    lines.append(f"  {key.replace('_', ' ')}:")
    for name, ms, share in result[key][:rows]:
      lines.append(f"    {ms:9.1f} ms {100 * share:5.1f} %  {name}")
  return "\n".join(lines)
