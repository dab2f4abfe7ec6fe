"""The random-architecture baseline: the space's constraints, reproducibility, the CLI."""

import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from configs.search import random as random_config
from fakenas_jax.nas import random_search, strategies
from fakenas_jax.nn import genotypes, registry

ROOT = pathlib.Path(__file__).resolve().parent.parent
OPS = registry.SEARCH_SPACES["fdnas"]


def test_sampled_genotypes_respect_the_space():
  drawn = random_search.sample_genotypes(3, 200, OPS)
  used = set()
  for genotype in drawn:
    for cell in (genotype.normal, genotype.reduce):
      assert len(cell) == 2 * genotypes.STEPS
      for node in range(genotypes.STEPS):
        (op_a, a), (op_b, b) = cell[2 * node], cell[2 * node + 1]
        assert a != b and 0 <= a < 2 + node and 0 <= b < 2 + node
        assert "none" not in (op_a, op_b)
        used |= {op_a, op_b}
    assert genotype.normal_concat == genotype.reduce_concat == (2, 3, 4, 5)
    genotype.check_space(OPS)
  assert used == set(OPS) - {"none"}  # every usable op is drawn
  assert len(set(drawn)) == len(drawn)


def test_sampling_is_uniform_over_ops_and_inputs():
  rng = np.random.default_rng(0)
  ops, inputs = [], []
  for _ in range(3000):
    cell = random_search.sample_cell(rng, ("none", "a_3x3", "b", "c"), steps=4)
    ops += [op for op, _ in cell]
    inputs.append(tuple(source for _, source in cell[6:8]))  # node 3: 2 of 5 inputs
  share = {name: ops.count(name) / len(ops) for name in ("a_3x3", "b", "c")}
  assert all(abs(value - 1 / 3) < 0.02 for value in share.values()), share
  pairs = {pair: inputs.count(pair) / len(inputs) for pair in set(inputs)}
  assert len(pairs) == 10 and all(abs(value - 0.1) < 0.025 for value in pairs.values())


def test_the_same_seed_gives_the_same_genotypes_and_another_seed_others():
  assert random_search.sample_genotypes(7, 5, OPS) == random_search.sample_genotypes(7, 5, OPS)
  assert random_search.sample_genotypes(7, 5, OPS) != random_search.sample_genotypes(8, 5, OPS)


def test_a_filter_that_rejects_everything_is_an_error():
  with pytest.raises(ValueError, match="draws gave only 0"):
    random_search.sample_genotypes(0, 2, OPS, accept=lambda g: False, max_draws=20)
  with pytest.raises(ValueError, match="no operation other than 'none'"):
    random_search.sample_genotypes(0, 2, ("none",))


def test_run_random_writes_genotype_files_with_their_metadata(tmp_path):
  config = random_config.get_config()
  config.random.num_genotypes, config.random.diagrams, config.seed = 3, False, 5
  result = strategies.run_strategy(config, tmp_path)
  assert len(result["paths"]) == 3
  for index, path in enumerate(result["paths"]):
    data = json.loads(path.read_text())
    assert data["strategy"] == "random" and data["seed"] == 5 and data["index"] == index
    assert data["ops"] == list(OPS) and data["search_space"] == "fdnas"
    assert genotypes.load(path) == result["genotypes"][index]
  assert result["genotypes"] == random_search.sample_genotypes(5, 3, OPS)


def test_seeds_parse_from_the_command_line_forms():
  assert strategies.parse_seeds("0,1,2") == [0, 1, 2]
  assert strategies.parse_seeds((3, 4)) == [3, 4]
  assert strategies.parse_seeds(()) == []
  with pytest.raises(ValueError, match="config.seeds"):
    strategies.parse_seeds("a,b")
  with pytest.raises(ValueError, match="repeats"):
    strategies.parse_seeds("1,1")


def test_the_search_command_writes_random_genotypes_per_seed(tmp_path):
  result = subprocess.run(
    [
      sys.executable,
      "-m",
      "fakenas_jax.search",
      "--config=configs/search/random.py",
      f"--workdir={tmp_path}",
      "--config.random.num_genotypes=2",
      "--config.seeds=0,1",
      "--config.random.diagrams=False",
    ],
    cwd=ROOT,
    capture_output=True,
    text=True,
    timeout=300,
  )
  assert result.returncode == 0, result.stderr
  for seed in (0, 1):
    files = sorted((tmp_path / f"seed_{seed}").glob("random_*/genotype.json"))
    assert len(files) == 2
    assert [genotypes.load(f) for f in files] == random_search.sample_genotypes(seed, 2, OPS)
  assert "random genotypes" not in result.stderr


def test_an_unknown_strategy_is_refused(tmp_path):
  config = random_config.get_config()
  config.strategy = "evolution"
  with pytest.raises(ValueError, match="unknown config.strategy 'evolution'"):
    strategies.run_strategy(config, tmp_path)
