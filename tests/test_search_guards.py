"""The tiny search with every guard and the cost penalty on, over two seeds: what the log,
history and genotype.json record, the stability report, and a resumed seed run."""

import json

import jax
import numpy as np
import pytest

from configs.search import default
from fakenas_jax.nas import collapse, search_hooks, strategies
from fakenas_jax.nn import genotypes

OPS = ("none", "max_pool_3x3", "skip_connect", "SepCDC_3x3_0.0", "SepCDC_3x3_0.7")

pytestmark = pytest.mark.slow


def guarded_config(tiny_corpus, **changes):
  spec, data_dir, overrides = tiny_corpus
  config = default.get_config()
  config.dataset, config.data_dir = spec, data_dir
  config.corpus_overrides = overrides
  config.ops, config.reducing_skip = OPS, "avg_pool"
  config.layout, config.channels, config.k = "NR", 8, 2
  config.image_size, config.batch_size, config.frames_per_video = 16, 4, None
  config.epochs, config.warmup_epochs, config.prune_every = 3, 1, 10
  config.indicator = False  # the estimation indicator is not what this test is about
  config.steps_per_epoch, config.progress = 2, False
  config.guards.update(
    dict(
      max_skips=1,
      max_parameter_free=3,
      cap_cells="both",
      early_stop=True,
      early_stop_patience=1,
      hessian=True,
      hessian_iterations=3,
    )
  )
  config.cost.penalty = 0.5
  config.network.update(dict(channels=8, layout="NR", image_size=16))
  config.seeds = (0, 1)
  config.update(changes)
  return config


@pytest.fixture(scope="module")
def guarded(tiny_corpus, tmp_path_factory):
  workdir = tmp_path_factory.mktemp("guarded")
  config = guarded_config(tiny_corpus)
  return workdir, config, strategies.run_strategy(config, workdir, devices=jax.devices()[:1])


def test_every_guard_is_recorded(guarded):
  workdir, config, result = guarded
  for seed in (0, 1):
    run_dir = workdir / f"seed_{seed}"
    data = json.loads((run_dir / "genotype.json").read_text())
    history = json.loads((run_dir / "history.json").read_text())
    genotype = genotypes.Genotype.from_json(data)
    assert [op for op, _ in genotype.normal].count("skip_connect") <= 1
    guards = data["guards"]
    assert guards["max_skips"] == 1 and guards["early_stop"] is True
    assert guards["max_parameter_free"] == 3
    assert collapse.parameter_free_count(genotype.normal) <= 3
    assert collapse.parameter_free_count(genotype.reduce) <= 3 and guards["cap_cells"] == [
      "normal",
      "reduce",
    ]
    assert history[-1][search_hooks.PARAMETER_FREE_REDUCE] == collapse.parameter_free_count(
      genotype.reduce
    )
    counts = [int(e[search_hooks.PARAMETER_FREE]) for e in history]
    assert guards["parameter_free_ops"] == counts
    assert counts[-1] == collapse.parameter_free_count(genotype.normal)
    # DARTS+ with patience 1: the search stops at the first epoch after warm-up whose count
    # equals or exceeds the previous one, or runs all epochs.
    after = counts[config.warmup_epochs :]
    stops = [i for i in range(1, len(after)) if after[i] >= after[i - 1]]
    assert len(history) == (config.warmup_epochs + stops[0] + 1 if stops else config.epochs)
    assert (guards["stopped_early"] is not None) == bool(stops)
    eigen = [e for e in history if search_hooks.EIGENVALUE in e]
    assert len(eigen) == len(history) - config.warmup_epochs
    assert all(np.isfinite(e[search_hooks.EIGENVALUE]) for e in eigen)
    assert (run_dir / "hessian_eigenvalue.png").is_file()
    assert all("train/expected_mmacs" in e for e in history)
    assert data["network"]["name"] == "c2pn" and data["params"] > 0 and data["macs"] > 0
    log = (run_dir / "metrics.jsonl").read_text()
    assert "guards/parameter_free_ops" in log and "guards/hessian_eigenvalue" in log


def test_an_unknown_cap_cells_value_is_refused():
  with pytest.raises(ValueError, match="guards.cap_cells must be 'normal' or 'both'"):
    search_hooks.capped_cells({"cap_cells": "reduce"})


def test_the_seeds_give_a_stability_report_and_rerunning_reads_them_back(guarded, tiny_corpus):
  workdir, config, result = guarded
  report = json.loads((workdir / "stability.json").read_text())
  assert set(report["final_alpha_entropy"]) == {"seed_0", "seed_1"}
  assert -1.0 <= report["mean_kendall_tau"]["normal"] <= 1.0
  assert "Kendall" in (workdir / "stability.md").read_text()
  again = strategies.run_strategy(config, workdir, devices=jax.devices()[:1])
  assert again["seeds"][0]["genotype"] == result["seeds"][0]["genotype"]
  assert again["seeds"][1]["genotype"] == result["seeds"][1]["genotype"]
