"""Progressive pruning with a growing channel-sampling rate (FD-NAS Alg. 1, lines 8–11).

After warm-up, every `period` epochs (the paper: 20; Alg. 1 prunes when epoch > 19 and
epoch % 20 == 0) each edge drops the `drop` (2) active operations of lowest importance H
(Eq. 8), and the partial-channel divisor k halves (1/8 of the channels → 1/4 → 1/2 → all), so the
surviving operations see more channels. An edge always keeps at least one non-`none` operation.
What carries over a pruning step: the weights of the surviving operations, α and β (the columns
of pruned operations stay in the arrays, masked inactive), the optimiser states, the epoch and
the data order; only the compiled step changes.
"""

from __future__ import annotations

import numpy as np


def is_pruning_epoch(epoch: int, period: int, first: int | None = None) -> bool:
  """Alg. 1 line 9: prune after epoch `epoch` (0-based count of finished epochs) when due.

  With `first=None` the first pruning is at `period`, as in the paper (epoch > period − 1 and
  epoch % period == 0).
  """
  if period <= 0:
    return False
  first = period if first is None else first
  return epoch >= first and (epoch - first) % period == 0


def prune(
  importance: np.ndarray, active: np.ndarray, drop: int = 2, never_last: np.ndarray | None = None
) -> np.ndarray:
  """New `active` mask (edges, ops): the `drop` lowest-importance active operations removed.

  `never_last` marks operations (e.g. `none`) that must not be the only survivor of an edge.
  Ties are broken towards removing the later operation in the list, deterministically.
  """
  importance = np.asarray(importance, np.float64)
  active = np.asarray(active, bool).copy()
  keepable = np.ones(active.shape[1], bool) if never_last is None else ~np.asarray(never_last, bool)
  for edge in range(active.shape[0]):
    candidates = np.flatnonzero(active[edge])
    budget = min(drop, len(candidates) - 1)
    # Lowest importance first; among equals the later operation goes first.
    order = sorted(candidates, key=lambda o: (importance[edge, o], -o))
    removed = 0
    for op in order:
      if removed == budget:
        break
      survivors = active[edge].copy()
      survivors[op] = False
      if (survivors & keepable).any():
        active[edge, op] = False
        removed += 1
  return active


def channel_divisor(initial_k: int, prunings_done: int) -> int:
  """k after `prunings_done` prunings: halved each time, never below 1."""
  return max(1, initial_k >> prunings_done)
