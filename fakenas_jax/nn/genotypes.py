"""Genotypes: the discrete cells a search derives, as plain data.

A genotype holds, for the normal and the reduction cell, two `(operation, input)` pairs per
intermediate node (inputs 0 and 1 are the cell inputs c_{k-2}, c_{k-1}; input 2 + i is node i)
and the nodes concatenated into the cell output. Genotypes are saved as JSON and loaded by
parsing that JSON — never by evaluating code. The published DARTS-family genotypes are data
here too, loadable by name.

Derivation (DARTS §2.4, FD-NAS Eq. 9): each edge gets a score per operation — softmax(α) for
DARTS, softmax(α)·softmax(β) for PC-DARTS, H of FD-NAS Eq. 8 — and for every node the two
incoming edges whose best non-`none` score is highest are kept, each with that best operation.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
from typing import Sequence

import numpy as np

STEPS = 4  # intermediate nodes per cell


def edges_per_cell(steps: int = STEPS) -> int:
  """Edges of a search cell: node i has 2 + i incoming edges (14 for 4 nodes)."""
  return sum(2 + i for i in range(steps))


def edge_index(node: int, source: int) -> int:
  """Row of the edge `source -> node` in the (edges, ops) arrays, in DARTS order."""
  return sum(2 + i for i in range(node)) + source


class GenotypeError(ValueError):
  """A genotype that is malformed or does not fit a search space."""


@dataclasses.dataclass(frozen=True)
class Genotype:
  normal: tuple[tuple[str, int], ...]
  normal_concat: tuple[int, ...]
  reduce: tuple[tuple[str, int], ...]
  reduce_concat: tuple[int, ...]

  def __post_init__(self):
    for cell in ("normal", "reduce"):
      pairs = getattr(self, cell)
      if len(pairs) % 2:
        raise GenotypeError(f"{cell} cell needs two (op, input) pairs per node, got {len(pairs)}")
      for position, (op, source) in enumerate(pairs):
        node = position // 2
        if not isinstance(op, str) or not 0 <= int(source) < 2 + node:
          raise GenotypeError(
            f"{cell} cell node {node}: bad pair ({op!r}, {source!r}); "
            f"inputs of node {node} are 0..{1 + node}"
          )
      concat = getattr(self, f"{cell}_concat")
      if not concat or not all(2 <= c < 2 + len(pairs) // 2 for c in concat):
        raise GenotypeError(f"{cell}_concat {concat} names nodes outside 2..{1 + len(pairs) // 2}")

  @property
  def steps(self) -> int:
    return len(self.normal) // 2

  def operations(self) -> set[str]:
    return {op for op, _ in self.normal + self.reduce}

  def check_space(self, op_names: Sequence[str], space_name: str = "the search space") -> None:
    """Raises `GenotypeError` naming the operations that are not in `op_names`."""
    unknown = sorted(self.operations() - set(op_names))
    if unknown:
      raise GenotypeError(
        f"genotype uses {', '.join(unknown)}, not in {space_name} ({', '.join(op_names)})"
      )

  def to_json(self) -> dict:
    return {
      "normal": [list(p) for p in self.normal],
      "normal_concat": list(self.normal_concat),
      "reduce": [list(p) for p in self.reduce],
      "reduce_concat": list(self.reduce_concat),
    }

  @classmethod
  def from_json(cls, data: dict) -> "Genotype":
    try:
      return cls(
        normal=tuple((str(op), int(i)) for op, i in data["normal"]),
        normal_concat=tuple(int(i) for i in data["normal_concat"]),
        reduce=tuple((str(op), int(i)) for op, i in data["reduce"]),
        reduce_concat=tuple(int(i) for i in data["reduce_concat"]),
      )
    except (KeyError, TypeError, ValueError) as error:
      raise GenotypeError(f"not a genotype: {error!r}") from error


def save(genotype: Genotype, path: str | pathlib.Path, **metadata) -> None:
  """Writes the genotype as JSON; `metadata` (e.g. search_space, ops) is stored beside it."""
  pathlib.Path(path).write_text(json.dumps({**genotype.to_json(), **metadata}, indent=2))


def check_declared_space(genotype: Genotype, data: dict, source: str = "the genotype") -> None:
  """Raises `GenotypeError` when the genotype's operations are not those its JSON declares.

  The search writes `ops` (the operations searched over) and `search_space` (its name) beside
  the cells; `ops` governs where present (an explicit operation list), else the named space of
  `nn.registry.SEARCH_SPACES`. A JSON that declares neither is not checked.
  """
  ops, space = data.get("ops"), data.get("search_space")
  if ops:
    if not isinstance(ops, list) or not all(isinstance(op, str) for op in ops):
      raise GenotypeError(f"{source}: 'ops' must be a list of operation names, got {ops!r}")
    allowed, what = ops, "the operations it declares"
  elif space:
    from fakenas_jax.nn import registry

    if space not in registry.SEARCH_SPACES:
      raise GenotypeError(
        f"{source}: unknown search_space {space!r}; known: {', '.join(registry.SEARCH_SPACES)}"
      )
    allowed, what = registry.SEARCH_SPACES[space], f"search space {space!r}, which it declares"
  else:
    return
  try:
    genotype.check_space(allowed, what)
  except GenotypeError as error:
    raise GenotypeError(f"{source}: {error}") from None


def load(name_or_path: str | pathlib.Path) -> Genotype:
  """A published genotype by name (see `PUBLISHED`) or a genotype JSON file (its operations
  checked against the space it declares: `check_declared_space`)."""
  if str(name_or_path) in PUBLISHED:
    return PUBLISHED[str(name_or_path)]
  path = pathlib.Path(name_or_path)
  if not path.exists():
    raise GenotypeError(
      f"no genotype file {str(path)!r} and no published genotype of that name "
      f"(published: {', '.join(PUBLISHED)})"
    )
  try:
    data = json.loads(path.read_text())
  except json.JSONDecodeError as error:
    raise GenotypeError(f"{path} is not JSON: {error}") from error
  if not isinstance(data, dict):
    raise GenotypeError(f"{path}: not a genotype (a JSON object with normal/reduce cells)")
  try:
    genotype = Genotype.from_json(data)
  except GenotypeError as error:
    raise GenotypeError(f"{path}: {error}") from None
  check_declared_space(genotype, data, str(path))
  return genotype


def derive_cell(
  scores: np.ndarray, op_names: Sequence[str], steps: int = STEPS, keep: int = 2
) -> tuple[tuple[str, int], ...]:
  """Two strongest inputs per node (`none` excluded) and their best operation.

  scores: (edges, ops) importance of each operation on each edge; an operation pruned from an
  edge carries -inf.
  """
  scores = np.asarray(scores, np.float64)
  if scores.shape != (edges_per_cell(steps), len(op_names)):
    raise GenotypeError(
      f"scores of shape {scores.shape} do not fit {steps} nodes x {len(op_names)} operations"
    )
  usable = np.array([name != "none" for name in op_names])
  if not usable.any():
    raise GenotypeError("every operation is 'none'")
  masked = np.where(usable[None, :], scores, -np.inf)
  pairs = []
  for node in range(steps):
    rows = [edge_index(node, source) for source in range(2 + node)]
    best = masked[rows].max(axis=1)
    # Stable order: highest score first; ties broken by the lower input index.
    chosen = sorted(np.argsort(-best, kind="stable")[:keep])
    for source in chosen:
      pairs.append((op_names[int(np.argmax(masked[rows[source]]))], int(source)))
  return tuple(pairs)


def derive(
  normal_scores: np.ndarray, reduce_scores: np.ndarray, op_names: Sequence[str], steps: int = STEPS
) -> Genotype:
  concat = tuple(range(2, 2 + steps))
  return Genotype(
    normal=derive_cell(normal_scores, op_names, steps),
    normal_concat=concat,
    reduce=derive_cell(reduce_scores, op_names, steps),
    reduce_concat=concat,
  )


def _published(normal, reduce) -> Genotype:
  return Genotype(
    normal=tuple(normal),
    normal_concat=(2, 3, 4, 5),
    reduce=tuple(reduce),
    reduce_concat=(2, 3, 4, 5),
  )


# The cells published with DARTS (Liu et al., 2019; first and second order, CIFAR-10) and
# PC-DARTS (Xu et al., 2020; CIFAR-10).
PUBLISHED: dict[str, Genotype] = {
  "DARTS_V1": _published(
    [
      ("sep_conv_3x3", 1),
      ("sep_conv_3x3", 0),
      ("skip_connect", 0),
      ("sep_conv_3x3", 1),
      ("skip_connect", 0),
      ("sep_conv_3x3", 1),
      ("sep_conv_3x3", 0),
      ("skip_connect", 2),
    ],
    [
      ("max_pool_3x3", 0),
      ("max_pool_3x3", 1),
      ("skip_connect", 2),
      ("max_pool_3x3", 0),
      ("max_pool_3x3", 0),
      ("skip_connect", 2),
      ("skip_connect", 2),
      ("avg_pool_3x3", 0),
    ],
  ),
  "DARTS_V2": _published(
    [
      ("sep_conv_3x3", 0),
      ("sep_conv_3x3", 1),
      ("sep_conv_3x3", 0),
      ("sep_conv_3x3", 1),
      ("sep_conv_3x3", 1),
      ("skip_connect", 0),
      ("skip_connect", 0),
      ("dil_conv_3x3", 2),
    ],
    [
      ("max_pool_3x3", 0),
      ("max_pool_3x3", 1),
      ("skip_connect", 2),
      ("max_pool_3x3", 1),
      ("max_pool_3x3", 0),
      ("skip_connect", 2),
      ("skip_connect", 2),
      ("max_pool_3x3", 1),
    ],
  ),
  "PC_DARTS": _published(
    [
      ("sep_conv_3x3", 1),
      ("skip_connect", 0),
      ("sep_conv_3x3", 0),
      ("dil_conv_3x3", 1),
      ("sep_conv_5x5", 0),
      ("sep_conv_3x3", 1),
      ("avg_pool_3x3", 0),
      ("dil_conv_3x3", 1),
    ],
    [
      ("sep_conv_5x5", 1),
      ("max_pool_3x3", 0),
      ("sep_conv_5x5", 1),
      ("sep_conv_5x5", 2),
      ("sep_conv_3x3", 0),
      ("sep_conv_3x3", 3),
      ("sep_conv_3x3", 1),
      ("sep_conv_3x3", 2),
    ],
  ),
}
PUBLISHED["DARTS"] = PUBLISHED["DARTS_V2"]
