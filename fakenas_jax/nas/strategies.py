"""Which search runs: the gradient search or the random baseline, once or once per seed.

    result = run_strategy(config, workdir)   # what `python -m fakenas_jax.search` calls

`config.strategy` is 'gradient' (nas/search.py: FD-NAS / PC-DARTS / DARTS) or 'random'
(nas/random_search.py: uniform genotypes of the same space). `config.seeds` (e.g.
`--config.seeds=0,1,2`) runs one of them per seed, each in `<workdir>/seed_<s>/` — a search
there resumes from its own checkpoints, a finished one is only read back — and then writes the
stability report over the seeds (nas/stability.py) into `<workdir>`.
"""

from __future__ import annotations

import pathlib

import ml_collections

from fakenas_jax.nas import random_search, search, stability

STRATEGIES = ("gradient", "random")


def parse_seeds(value) -> list[int]:
  """`config.seeds` as a list of ints: a tuple/list, one int, or a string '0,1,2'."""
  if value is None or value == "" or value == ():
    return []
  if isinstance(value, str):
    items = [item.strip() for item in value.strip("()[] ").split(",") if item.strip()]
  elif isinstance(value, int):
    items = [value]
  else:
    items = list(value)
  try:
    seeds = [int(item) for item in items]
  except ValueError as error:
    raise ValueError(f"config.seeds must be integers like 0,1,2; got {value!r}") from error
  if len(set(seeds)) != len(seeds):
    raise ValueError(f"config.seeds has repeats: {value!r}")
  return seeds


def _run_one(config, workdir: pathlib.Path, devices) -> dict:
  strategy = config.strategy
  if strategy not in STRATEGIES:
    raise ValueError(f"unknown config.strategy {strategy!r}; use one of {', '.join(STRATEGIES)}")
  if strategy == "random":
    result = random_search.run_random(config, workdir)
    result["summary"] = (
      f"{len(result['paths'])} random genotypes written to {workdir}/random_*/genotype.json"
    )
    return result
  result = search.run_search(config, workdir, devices=devices)
  result["summary"] = f"written to {workdir}/genotype.json and genotype.png"
  return result


def run_strategy(
  config: ml_collections.ConfigDict, workdir: str | pathlib.Path, *, devices=None
) -> dict:
  """Runs the configured strategy (per seed when `config.seeds` names several).

  Returns the single run's result, or {'genotype': the first seed's, 'seeds': {seed: result},
  'stability': the report (gradient search), 'summary': a line}.
  """
  workdir = pathlib.Path(workdir)
  seeds = parse_seeds(config.seeds)
  if not seeds:
    return _run_one(config, workdir, devices)
  results, directories = {}, []
  for seed in seeds:
    sub = ml_collections.ConfigDict(config.to_dict())
    sub.seed, sub.seeds = seed, ()
    directories.append(workdir / f"seed_{seed}")
    if config.progress:
      print(f"== seed {seed} → {directories[-1]} ==", flush=True)
    results[seed] = _run_one(sub, directories[-1], devices)
  out = {
    "genotype": results[seeds[0]]["genotype"],
    "seeds": results,
    "summary": f"{len(seeds)} runs (seeds {', '.join(map(str, seeds))}) in {workdir}/seed_*/",
  }
  if config.strategy == "gradient":
    out["stability"] = stability.write_report(directories, workdir)
    out["summary"] += f"; stability report in {workdir}/stability.md"
  return out
