"""Work spread over spawned worker processes, in order, with a fall-back to this process.

    for result in map_in_workers(render, jobs, num_workers=4, label="synthetic_faces"):
      ...                                   # render(*job) for every job, in the order of `jobs`

Spawned workers re-import `__main__`; a script without an `if __name__ == "__main__":` guard
breaks them (`BrokenProcessPool`). The jobs not done then run in this process, with a warning,
rather than failing the build. One worker (or one job) runs everything here.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from absl import logging


def _call(function_and_job: tuple[Callable, tuple]) -> Any:
  function, job = function_and_job
  return function(*job)


def map_in_workers(
  function: Callable[..., Any],
  jobs: Sequence[tuple],
  *,
  num_workers: int,
  label: str,
  chunksize: int = 1,
  progress: bool = False,
  unit: str = "item",
) -> Iterator[Any]:
  """`function(*job)` for every job, in order (module docstring); `function` must be picklable
  (a module-level function). `progress` shows a bar of `unit`s."""
  from tqdm import auto as tqdm  # pylint: disable=import-outside-toplevel

  bar = tqdm.tqdm(total=len(jobs), desc=label, unit=unit, disable=not progress)
  done = 0
  try:
    if num_workers > 1 and len(jobs) > 1:
      try:
        context = multiprocessing.get_context("spawn")
        workers = min(num_workers, len(jobs))
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
          for result in pool.map(_call, [(function, job) for job in jobs], chunksize=chunksize):
            done += 1
            bar.update()
            yield result
      except concurrent.futures.process.BrokenProcessPool as error:
        logging.warning(
          "%s: worker processes failed (%s); doing the remaining %d %ss in this process",
          label,
          error,
          len(jobs) - done,
          unit,
        )
    for job in jobs[done:]:
      result = function(*job)
      done += 1
      bar.update()
      yield result
  finally:
    bar.close()
