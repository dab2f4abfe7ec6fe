"""The random-architecture baseline: genotypes drawn uniformly from a search space.

    written = run_random(config, workdir)   # `--config=configs/search/random.py`

Random search with the same space and constraints as the gradient search is the baseline a NAS
method must beat (Li & Talwalkar 2019; Yang et al. 2020). A genotype is drawn as `derive`
(nn/genotypes.py) builds one: each of the 4 intermediate nodes of a cell takes two inputs from
distinct earlier nodes (the cell inputs or an earlier node), each through one operation of the
space other than `none`; the cell output concatenates the 4 nodes. Draws are uniform and
independent per node, from `numpy.random.default_rng(seed)`, so a seed gives the same genotypes.
Each genotype is written as `<workdir>/random_NNN/genotype.json` (+ the cell diagram), with the
metadata a search writes (`search_space`, `ops`) plus `strategy='random'`, `seed`, `index`.
"""

from __future__ import annotations

import json
import pathlib
from typing import Sequence

import numpy as np

from fakenas_jax.nas import cell_diagram, search
from fakenas_jax.nn import genotypes


def usable_ops(op_names: Sequence[str]) -> tuple[str, ...]:
  """The operations a derived cell may hold: every one but `none`."""
  usable = tuple(name for name in op_names if name != "none")
  if not usable:
    raise ValueError(f"the search space {tuple(op_names)} has no operation other than 'none'")
  return usable


def sample_cell(
  rng: np.random.Generator, op_names: Sequence[str], steps: int = genotypes.STEPS
) -> tuple[tuple[str, int], ...]:
  """Two (operation, input) pairs per node: distinct inputs, uniform non-`none` operations."""
  usable = usable_ops(op_names)
  pairs = []
  for node in range(steps):
    sources = sorted(int(s) for s in rng.choice(2 + node, size=2, replace=False))
    pairs += [(usable[int(rng.integers(len(usable)))], source) for source in sources]
  return tuple(pairs)


def sample_genotype(
  rng: np.random.Generator, op_names: Sequence[str], steps: int = genotypes.STEPS
) -> genotypes.Genotype:
  concat = tuple(range(2, 2 + steps))
  return genotypes.Genotype(
    normal=sample_cell(rng, op_names, steps),
    normal_concat=concat,
    reduce=sample_cell(rng, op_names, steps),
    reduce_concat=concat,
  )


def sample_genotypes(
  seed: int,
  count: int,
  op_names: Sequence[str],
  *,
  steps: int = genotypes.STEPS,
  distinct: bool = True,
  accept=None,
  max_draws: int | None = None,
) -> list[genotypes.Genotype]:
  """`count` genotypes drawn from `seed`; `distinct` skips repeats; `accept(genotype) -> bool`
  (e.g. a zero-cost pre-filter) skips rejected ones. Raises if `max_draws` draws do not give
  `count` genotypes."""
  if count < 1:
    raise ValueError(f"need at least one genotype, got count={count}")
  rng = np.random.default_rng(seed)
  max_draws = max_draws or 100 * count
  chosen, seen = [], set()
  for _ in range(max_draws):
    genotype = sample_genotype(rng, op_names, steps)
    if distinct and genotype in seen:
      continue
    seen.add(genotype)
    if accept is not None and not accept(genotype):
      continue
    chosen.append(genotype)
    if len(chosen) == count:
      return chosen
  raise ValueError(
    f"{max_draws} draws gave only {len(chosen)} of {count} genotypes; "
    f"lower the count or loosen the filter"
  )


def save_random(
  genotype: genotypes.Genotype,
  path: str | pathlib.Path,
  *,
  space: str,
  op_names: Sequence[str],
  seed: int,
  index: int,
) -> None:
  """A drawn genotype as genotype JSON, marked as the baseline's (strategy, seed, index)."""
  genotypes.save(
    genotype,
    path,
    search_space=space,
    ops=list(op_names),
    strategy="random",
    seed=int(seed),
    index=index,
  )


def run_random(config, workdir: str | pathlib.Path) -> dict:
  """Writes `config.random.num_genotypes` genotypes of the configured space into `workdir`.

  Returns {'genotype': the first, 'genotypes': all, 'paths': their JSON files}. Re-running with
  the same seed rewrites the same files.
  """
  op_names, _ = search.search_space(config)
  count = int(config.random.num_genotypes)
  workdir = pathlib.Path(workdir)
  workdir.mkdir(parents=True, exist_ok=True)
  (workdir / "config.json").write_text(config.to_json_best_effort(indent=2))
  drawn = sample_genotypes(int(config.seed), count, op_names)
  paths = []
  for index, genotype in enumerate(drawn):
    directory = workdir / f"random_{index:03d}"
    directory.mkdir(exist_ok=True)
    save_random(
      genotype,
      directory / "genotype.json",
      space=config.space,
      op_names=op_names,
      seed=config.seed,
      index=index,
    )
    if config.random.get("diagrams", True):
      cell_diagram.save_genotype_diagram(
        genotype, directory / "genotype.png", title=f"random {index} (seed {config.seed})"
      )
    paths.append(directory / "genotype.json")
  (workdir / "random_genotypes.json").write_text(
    json.dumps(
      {
        "strategy": "random",
        "seed": int(config.seed),
        "genotypes": [str(path.relative_to(workdir)) for path in paths],
      },
      indent=2,
    )
  )
  if config.progress:
    print(
      f"{count} random genotypes (seed {config.seed}) written to {workdir}/random_*/", flush=True
    )
  return {"genotype": drawn[0], "genotypes": drawn, "paths": paths}
